//! The writer thread's CPU priority.
//!
//! Every durable write of a node on SQLite goes through one writer thread
//! ([`super::pool`]), so it is the node's serialization point: while it
//! waits for a CPU that request handlers hold, every writer's caller waits
//! too. On a machine whose cores request handling keeps busy, a writer
//! that runs first when it wakes keeps commits coming (BENCHMARKS.md
//! section 6 has the figures).
//! So the writer asks for [`WRITER_NICE`] when it starts. Raising a
//! priority needs `CAP_SYS_NICE` (root has it; a systemd unit grants it
//! with `AmbientCapabilities=CAP_SYS_NICE`, or allows it with
//! `LimitNICE=`); without it the writer runs at the normal priority and
//! says so once in the log. Nothing else is affected: on Linux the nice
//! value is a per-thread attribute.

/// The nice value the writer thread asks for (the normal one is 0; lower
/// runs first).
pub(crate) const WRITER_NICE: i32 = -10;

/// Gives the calling thread [`WRITER_NICE`]; logs whether it could.
pub(crate) fn raise_current_thread() {
    match set_current_thread_nice(WRITER_NICE) {
        Ok(()) => tracing::debug!(nice = WRITER_NICE, "store writer runs at a raised priority"),
        Err(e) => tracing::info!(
            error = %e,
            "store writer runs at the normal priority (raising it needs CAP_SYS_NICE or a nice limit: systemd LimitNICE=-10)"
        ),
    }
}

#[cfg(target_os = "linux")]
fn set_current_thread_nice(nice: i32) -> std::io::Result<()> {
    // SAFETY: setpriority only reads its integer arguments. With
    // PRIO_PROCESS and `who` 0 it applies, on Linux, to the calling thread
    // only (setpriority(2), "Linux notes").
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_current_thread_nice(_nice: i32) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "thread priorities are set on Linux only",
    ))
}
