//! A pseudo-terminal pair: the simulator holds the master, the code under
//! test opens the slave's path as its serial port.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use tokio::io::unix::AsyncFd;

/// The master side, non-blocking, on tokio's reactor.
pub(crate) struct Master {
    fd: AsyncFd<OwnedFd>,
    /// Kept open so the master never reads EIO between two openings of
    /// the slave by the code under test.
    _slave: OwnedFd,
}

/// Opens a pty in raw mode (no echo, no line discipline): bytes pass as is.
pub(crate) fn open() -> io::Result<(Master, PathBuf)> {
    let (mut master, mut slave): (RawFd, RawFd) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned here.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut attrs: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a valid termios pointer.
    unsafe {
        if libc::tcgetattr(slave.as_raw_fd(), &mut attrs) != 0 {
            return Err(io::Error::last_os_error());
        }
        libc::cfmakeraw(&mut attrs);
        if libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &attrs) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: the buffer is writable and its length is given.
    if unsafe { libc::ttyname_r(slave.as_raw_fd(), name.as_mut_ptr(), name.len()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ttyname_r wrote a NUL-terminated string.
    let path = PathBuf::from(unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned());
    // SAFETY: fcntl on a valid descriptor.
    unsafe {
        let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((
        Master {
            // SAFETY: an OwnedFd's descriptor stays open and the same
            // until it is dropped, which is when the AsyncFd is.
            fd: unsafe { AsyncFd::register(master) }?,
            _slave: slave,
        },
        path,
    ))
}

impl Master {
    /// Reads what the code under test wrote (at least one byte).
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            // SAFETY: a valid descriptor and a writable buffer of that length.
            let result = guard.try_io(|fd| {
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => {
                    // The slave is closed at the moment; wait and retry.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `bytes` to the code under test.
    pub(crate) async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let mut guard = self.fd.writable().await?;
            // SAFETY: a valid descriptor and a readable buffer of that length.
            let result = guard.try_io(|fd| {
                let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Ok(n)) => bytes = &bytes[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}
