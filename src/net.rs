//! What a socket error means, for the server and the client alike. Every
//! socket here has a timeout, so a read or write that got nowhere in time
//! fails with `WouldBlock` (Unix) or `TimedOut` (Windows): `timed_out` says
//! which errors those are, and each caller waits again or gives up by its
//! own clock. A call interrupted by a signal (`Interrupted`, EINTR) is no
//! failure at all: Linux ends a socket read or write that has a timeout
//! with EINTR after SIGSTOP and SIGCONT (Ctrl-Z, then `fg`) even when no
//! signal handler is installed (signal(7)). `restart` and `Restarting` make
//! the call again, so tungstenite never sees EINTR and no caller takes it
//! for a lost connection. `read_full_at` is the one positional-read loop
//! for files (restarted the same way). `is_socket` tells whether a standard
//! stream is a socket (`--inetd`'s connection, or a log that would corrupt
//! it).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileExt, FileTypeExt};

/// Reads up to `buf.len()` bytes at `offset` without moving the file's
/// position, fewer only at the end of the file; returns how many.
pub fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match restart(|| file.read_at(&mut buf[got..], offset + got as u64))? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Whether `fd` (standard input or error) is a socket, judged by a
/// duplicate of it so that the stream itself is left as it is.
pub fn is_socket(fd: &impl AsFd) -> bool {
    fd.as_fd()
        .try_clone_to_owned()
        .and_then(|fd| File::from(fd).metadata())
        .is_ok_and(|m| m.file_type().is_socket())
}

/// Whether `e` is a socket timeout that ran out (nothing to read, or no
/// room to write, in the time allowed), not a broken connection.
pub fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Makes `call` again for as long as a signal interrupts it.
pub fn restart<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// A stream whose reads and writes are made again when a signal
/// interrupts them (the client's connection; the server's goes through
/// `stall::Stalling`, which does the same).
pub struct Restarting<S>(pub S);

#[cfg(test)]
impl<S> Restarting<S> {
    pub fn get_ref(&self) -> &S {
        &self.0
    }
}

impl<S: Read> Read for Restarting<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        restart(|| self.0.read(buf))
    }
}

impl<S: Write> Write for Restarting<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        restart(|| self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        restart(|| self.0.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails with `Interrupted` the first `left` times, then reads one byte.
    struct Flaky {
        left: usize,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left > 0 {
                self.left -= 1;
                return Err(io::ErrorKind::Interrupted.into());
            }
            buf[0] = b'x';
            Ok(1)
        }
    }

    #[test]
    fn interrupted_reads_are_made_again() {
        let mut r = Restarting(Flaky { left: 3 });
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).ok(), Some(1));
        assert_eq!(r.get_ref().left, 0);
    }

    #[test]
    fn timeouts_and_failures() {
        for (kind, timeout) in [
            (io::ErrorKind::WouldBlock, true),
            (io::ErrorKind::TimedOut, true),
            (io::ErrorKind::Interrupted, false),
            (io::ErrorKind::ConnectionReset, false),
        ] {
            assert_eq!(timed_out(&kind.into()), timeout, "{kind:?}");
        }
    }
}
