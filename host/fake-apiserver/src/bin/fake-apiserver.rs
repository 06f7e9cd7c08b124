//! `fake-apiserver [--listen 127.0.0.1:0] [--kubeconfig-out PATH]`: the fake apiserver as a process
//! for shell benchmarks, with the HTTP side channel under `/_fake/` (`POST /_fake/upsert`,
//! `POST /_fake/outage?seconds=N`, `POST /_fake/compact`, `GET /_fake/watch-log`,
//! `GET /_fake/requests`). Serves until SIGTERM or SIGINT.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use herald_fake_apiserver::FakeApiServer;

const USAGE: &str = "usage: fake-apiserver [--listen ADDR] [--kubeconfig-out PATH]";

struct Args {
    listen: String,
    kubeconfig_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:0".to_string(),
        kubeconfig_out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => args.listen = value()?,
            "--kubeconfig-out" => args.kubeconfig_out = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-apiserver: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let server = match FakeApiServer::builder()
        .http_side_channel(true)
        .try_start_on(listener)
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fake-apiserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    if let Some(path) = &args.kubeconfig_out {
        if let Err(e) = server.write_kubeconfig(path) {
            eprintln!("fake-apiserver: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("kubeconfig {}", path.display());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fake-apiserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            r = tokio::signal::ctrl_c() => r?,
        }
        Ok::<(), std::io::Error>(())
    });
    server.stop();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-apiserver: signal handling: {e}");
            ExitCode::FAILURE
        }
    }
}
