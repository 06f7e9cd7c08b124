//! TCP sockets for BGP: source binding, TCP MD5 (RFC 2385), TTL, TCP_NODELAY.
//!
//! Every option is set on the socket before `connect`, so the SYN already carries the
//! MD5 signature and the configured TTL (a multihop peer two hops away never sees a
//! TTL-1 SYN, and an MD5 peer never sees an unsigned one).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

use crate::config::Password;

/// Linux `TCP_MD5SIG_MAXKEYLEN`.
const MD5_MAX_KEY_LEN: usize = 80;

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h); libc does not export it.
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_MAX_KEY_LEN],
}

/// Why a connection attempt failed, worded for `peer_status().last_error`.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No SYN-ACK within the timeout: peer down, filtered, or an MD5 key mismatch
    /// (a wrong MD5 key makes the peer drop our SYN silently).
    #[error(
        "no answer from peer: TCP connect timed out after {0:?} (peer down, filtered, or TCP MD5 password mismatch)"
    )]
    Timeout(Duration),
    /// Setting up or connecting the socket failed.
    #[error("TCP connect failed: {0}")]
    Io(#[from] io::Error),
    /// The MD5 key is longer than the kernel accepts.
    #[error("TCP MD5 password longer than {MD5_MAX_KEY_LEN} bytes")]
    KeyTooLong,
}

/// Socket settings for one connection attempt.
#[derive(Debug, Clone)]
pub struct SocketOptions<'a> {
    /// Peer address and port.
    pub remote: SocketAddr,
    /// Local address to bind, if any.
    pub source: Option<IpAddr>,
    /// TCP MD5 key.
    pub password: Option<&'a Password>,
    /// IP TTL / IPv6 hop limit.
    pub ttl: u8,
}

/// Opens a configured socket and connects within `timeout`.
pub async fn connect(
    opts: &SocketOptions<'_>,
    timeout: Duration,
) -> Result<TcpStream, ConnectError> {
    let socket = configured_socket(opts)?;
    match tokio::time::timeout(timeout, socket.connect(opts.remote)).await {
        Ok(Ok(stream)) => {
            stream.set_nodelay(true)?;
            Ok(stream)
        }
        Ok(Err(err)) => Err(ConnectError::Io(err)),
        Err(_) => Err(ConnectError::Timeout(timeout)),
    }
}

/// Creates the socket with MD5, TTL and source bound, not yet connected.
pub fn configured_socket(opts: &SocketOptions<'_>) -> Result<TcpSocket, ConnectError> {
    let socket = match opts.remote {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    set_ttl(&socket, opts.remote.is_ipv4(), opts.ttl)?;
    if let Some(password) = opts.password {
        set_md5(&socket, opts.remote.ip(), password)?;
    }
    if let Some(source) = opts.source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    socket.set_nodelay(true)?;
    Ok(socket)
}

fn set_ttl(socket: &TcpSocket, ipv4: bool, ttl: u8) -> io::Result<()> {
    let value = libc::c_int::from(ttl);
    let (level, name) = if ipv4 {
        (libc::IPPROTO_IP, libc::IP_TTL)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS)
    };
    setsockopt(socket.as_raw_fd(), level, name, &value)
}

/// Reads back the TTL / hop limit of a socket (for tests and `doctor`).
pub fn socket_ttl(fd: &impl AsRawFd, ipv4: bool) -> io::Result<u8> {
    let (level, name) = if ipv4 {
        (libc::IPPROTO_IP, libc::IP_TTL)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS)
    };
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writes and len matches value's size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    u8::try_from(value).map_err(|_| io::Error::other("TTL out of range"))
}

fn set_md5(socket: &TcpSocket, peer: IpAddr, password: &Password) -> Result<(), ConnectError> {
    let key = password.expose().as_bytes();
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(ConnectError::KeyTooLong);
    }
    // SAFETY: sockaddr_storage and the rest are plain integers; all-zero is valid.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    write_sockaddr(&mut sig.addr, peer);
    // invariant: key.len() <= 80 checked above, fits u16.
    sig.key_len = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    setsockopt(
        socket.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_MD5SIG,
        &sig,
    )?;
    Ok(())
}

fn write_sockaddr(storage: &mut libc::sockaddr_storage, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((storage as *mut libc::sockaddr_storage).cast(), sin) };
        }
        IpAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((storage as *mut libc::sockaddr_storage).cast(), sin6) };
        }
    }
}

fn setsockopt<T>(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: value points to a live T and the length passed is T's size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A global-scope IPv6 address on the interface that holds `local_v4`: the default
/// IPv6 next hop for IPv6 prefixes sent over an IPv4 session.
pub fn ipv6_address_beside(local_v4: Ipv4Addr) -> Option<Ipv6Addr> {
    let addrs = interface_addresses();
    let ifname = addrs
        .iter()
        .find(|(_, addr)| *addr == IpAddr::V4(local_v4))
        .map(|(name, _)| name.clone())?;
    addrs.into_iter().find_map(|(name, addr)| match addr {
        IpAddr::V6(v6) if name == ifname && is_global_unicast(v6) => Some(v6),
        _ => None,
    })
}

fn is_global_unicast(addr: Ipv6Addr) -> bool {
    let first = addr.segments()[0];
    !addr.is_loopback()
        && !addr.is_unspecified()
        && !addr.is_multicast()
        && (first & 0xffc0) != 0xfe80
}

/// (interface name, address) pairs from getifaddrs(3).
fn interface_addresses() -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&raw mut head) } != 0 {
        return out;
    }
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: cursor is a node of the list getifaddrs returned, not yet freed.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        if entry.ifa_addr.is_null() || entry.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr is non-null and points to a sockaddr of the family it names.
        let family = i32::from(unsafe { (*entry.ifa_addr).sa_family });
        let addr = if family == libc::AF_INET {
            // SAFETY: family says this is a sockaddr_in.
            let sin = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in) };
            IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
        } else if family == libc::AF_INET6 {
            // SAFETY: family says this is a sockaddr_in6.
            let sin6 = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in6) };
            IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))
        } else {
            continue;
        };
        out.push((name, addr));
    }
    // SAFETY: head came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn ttl_and_md5_are_set_before_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let remote = listener.local_addr().unwrap();
        let password = Password::new("herald-md5");
        for ttl in [1u8, 2, 64] {
            let opts = SocketOptions {
                remote,
                source: Some("127.0.0.1".parse().unwrap()),
                password: Some(&password),
                ttl,
            };
            let socket = configured_socket(&opts).unwrap();
            assert_eq!(socket_ttl(&socket, true).unwrap(), ttl);
        }
    }

    #[tokio::test]
    async fn ipv6_hop_limit_is_set() {
        let remote: SocketAddr = "[::1]:179".parse().unwrap();
        let opts = SocketOptions {
            remote,
            source: None,
            password: None,
            ttl: 3,
        };
        let socket = configured_socket(&opts).unwrap();
        assert_eq!(socket_ttl(&socket, false).unwrap(), 3);
    }

    #[tokio::test]
    async fn connected_stream_keeps_ttl_and_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let remote = listener.local_addr().unwrap();
        let opts = SocketOptions {
            remote,
            source: None,
            password: None,
            ttl: 2,
        };
        let stream = connect(&opts, Duration::from_secs(2)).await.unwrap();
        assert_eq!(socket_ttl(&stream, true).unwrap(), 2);
        assert!(stream.nodelay().unwrap());
    }

    #[test]
    fn too_long_key_is_rejected() {
        let remote: SocketAddr = "127.0.0.1:179".parse().unwrap();
        let password = Password::new("x".repeat(81));
        let opts = SocketOptions {
            remote,
            source: None,
            password: Some(&password),
            ttl: 1,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        assert!(matches!(
            configured_socket(&opts),
            Err(ConnectError::KeyTooLong)
        ));
    }
}
