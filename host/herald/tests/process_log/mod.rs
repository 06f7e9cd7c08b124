//! A test process's whole output as text, without terminal colour codes.

use herald_testbed::Process;

pub fn plain_log(process: &Process) -> String {
    let raw = std::fs::read_to_string(process.log_path()).unwrap_or_else(|_| process.log());
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequence: ESC [ … final byte in @..~
            for next in chars.by_ref() {
                if ('@'..='~').contains(&next) && next != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
