//! Every libc call of the extension, each in a small safe wrapper with its SAFETY line, so the
//! rest of the code is safe Rust. A leaf: it imports nothing of the project.
//!
//! Raw Zend calls are not here: they live in `php::zend`.

use std::fs::File;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// The effective user id (the user the process acts as now: PHP-FPM's master starts as root,
/// its workers send as www-data).
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The real user id.
pub fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// This machine's host name as the kernel has it, or `None`.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Seconds since the epoch, as `time(NULL)` gives them (PHP's date functions take this type).
pub fn now() -> libc::time_t {
    // SAFETY: time(NULL) cannot fail.
    unsafe { libc::time(std::ptr::null_mut()) }
}

/// `flock()` without blocking, exclusive or shared; true when the lock was taken.
pub fn try_flock(f: &File, exclusive: bool) -> bool {
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: a valid open file descriptor, borrowed for the call.
    unsafe { libc::flock(f.as_raw_fd(), op | libc::LOCK_NB) == 0 }
}

/// Asks Linux to acknowledge the next segments at once instead of delaying the ACK.
pub fn tcp_quickack(tcp: &TcpStream) {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket; the option value is an int of the given size.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// What a peek without waiting finds on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peek {
    /// At least one byte waits to be read.
    Data,
    /// Nothing arrived.
    Nothing,
    /// The peer closed, or the socket failed.
    Closed,
}

/// Looks whether anything waits on the socket, without taking it and without blocking.
pub fn peek(tcp: &TcpStream) -> Peek {
    let mut byte = [0u8; 1];
    // SAFETY: a valid socket and a 1-byte buffer; MSG_PEEK leaves the data in the socket and
    // MSG_DONTWAIT makes the call return at once.
    let n = unsafe {
        libc::recv(
            tcp.as_raw_fd(),
            byte.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => Peek::Closed,
        n if n > 0 => Peek::Data,
        _ => match io::Error::last_os_error().kind() {
            io::ErrorKind::WouldBlock => Peek::Nothing,
            _ => Peek::Closed,
        },
    }
}

/// `listen()` again with another backlog (tests fill a listener's queue with it).
pub fn relisten(l: &std::net::TcpListener, backlog: i32) -> io::Result<()> {
    // SAFETY: listen() on a valid socket descriptor we borrow; it only changes the backlog.
    match unsafe { libc::listen(l.as_raw_fd(), backlog) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Registers fork handlers: `prepare` runs in the parent just before `fork()`, `parent` in the
/// parent after it, `child` in the new child (where only async-signal-safe calls are allowed).
/// glibc's `pthread_atfork` (from libc_nonshared.a, linked into this library) records the
/// library's handle, so the handlers go away if PHP unloads the extension.
pub fn atfork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) -> bool {
    // SAFETY: three valid function pointers that live as long as the library; they neither
    // unwind nor take arguments.
    unsafe {
        libc::pthread_atfork(
            Some(prepare as unsafe extern "C" fn()),
            Some(parent as unsafe extern "C" fn()),
            Some(child as unsafe extern "C" fn()),
        ) == 0
    }
}

/// `close()` of a raw descriptor, for a fork child handler (async-signal-safe, no lock).
pub fn close_fd(fd: i32) {
    // SAFETY: the caller owns `fd` in this process and forgets every other handle to it; close()
    // is async-signal-safe. Its error (EBADF, EINTR) leaves nothing to undo.
    unsafe {
        libc::close(fd);
    }
}

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine (unlike
/// `Instant`, whose value cannot be written down), which wall-clock steps do not move.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to write to; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}
