//! Who owns an audit intent: this process's identity (`host:pid:uuid`, made once) and whether
//! another owner is known to be dead, so that recovery settles only the intents of processes
//! that stopped (or, failing that knowledge, intents older than a lease).

use std::sync::OnceLock;

static OWNER: OnceLock<String> = OnceLock::new();

fn host() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .replace(':', "_")
    }
    #[cfg(not(unix))]
    {
        "localhost".to_owned()
    }
}

/// This process's identity as an intent owner: `host:pid:uuid` (the uuid tells a restarted
/// process that got the same pid, as in a container, from the one before it).
pub fn intent_owner() -> &'static str {
    OWNER.get_or_init(|| {
        format!(
            "{}:{}:{}",
            host(),
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )
    })
}

/// Whether the process that owns `owner` is known to have stopped: it ran on this host and
/// its pid is gone, or its pid is this process's and its uuid is not (an earlier process with
/// the same pid). Another host's owner, or a pid that is in use, is not known dead (recovery
/// then waits for the intent's lease).
pub fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(uuid), Some(pid), Some(host_part)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host_part != host() {
        return false;
    }
    if pid == std::process::id() {
        return !intent_owner().ends_with(&format!(":{uuid}"));
    }
    !process_alive(pid)
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_owner_is_alive_and_an_earlier_one_with_our_pid_is_dead() {
        assert!(!owner_is_dead(intent_owner()));
        let earlier = format!("{}:{}:{}", host(), std::process::id(), "0123");
        assert!(owner_is_dead(&earlier));
        // A pid that cannot exist on Linux (above pid_max).
        assert!(owner_is_dead(&format!("{}:{}:ab", host(), 99_999_999)));
        assert!(!owner_is_dead(&format!("other-host:{}:ab", 99_999_999)));
        assert!(!owner_is_dead("garbage"));
    }
}
