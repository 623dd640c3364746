//! Small pieces every page uses: status badges (colour always with a word), ids truncated in
//! the middle with the full text on hover and a copy button, times (absolute and relative),
//! empty states, the hidden CSRF field.

use maud::{Markup, html};
use time::OffsetDateTime;

use crate::session::Signed;

/// The tone of a badge: what its colour means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Allowed, executed, healthy.
    Good,
    /// Waiting for someone.
    Wait,
    /// Denied, failed, broken.
    Bad,
    /// Neutral.
    Plain,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "badge good",
            Tone::Wait => "badge wait",
            Tone::Bad => "badge bad",
            Tone::Plain => "badge",
        }
    }
}

/// A badge with its word.
pub(crate) fn badge(tone: Tone, word: &str) -> Markup {
    html! { span class=(tone.class()) { (word) } }
}

/// The tone of a status word used anywhere in the gateway (approval statuses, audit
/// decisions and outcomes).
pub(crate) fn tone_of(word: &str) -> Tone {
    match word {
        "executed" | "ok" | "allow" | "approved" | "usable" | "active" => Tone::Good,
        "pending" | "needs_approval" | "executing" | "unknown" => Tone::Wait,
        "denied"
        | "deny"
        | "failed"
        | "error"
        | "expired"
        | "withdrawn"
        | "disabled"
        | "revoked"
        | "needs re-authorisation" => Tone::Bad,
        _ => Tone::Plain,
    }
}

/// A status badge: the word, coloured by what it means.
pub(crate) fn status(word: &str) -> Markup {
    badge(tone_of(word), &word.replace('_', " "))
}

/// `s` cut in the middle to at most `max` characters (the full text on hover and focus).
pub(crate) fn mid(s: &str, max: usize) -> Markup {
    let n = s.chars().count();
    if n <= max {
        return html! { span { (s) } };
    }
    let keep = max.saturating_sub(1) / 2;
    let head: String = s.chars().take(keep).collect();
    let tail: String = s.chars().skip(n - keep).collect();
    html! { span class="mid" title=(s) tabindex="0" { (head) "…" (tail) } }
}

/// An id: monospace, cut in the middle, with a copy button.
pub(crate) fn id(full: &str) -> Markup {
    html! {
        span class="idchip" {
            code title=(full) tabindex="0" { (short(full)) }
            button type="button" class="copy" data-copy=(full) aria-label=(format!("Copy {full}")) { "Copy" }
        }
    }
}

/// The first 8 characters of an id.
pub(crate) fn short(full: &str) -> String {
    let head: String = full.chars().take(8).collect();
    if full.chars().count() > 8 {
        format!("{head}…")
    } else {
        head
    }
}

/// A time: `2026-12-07 15:31 UTC` with the exact instant in `datetime` and the title, and
/// how long ago.
pub(crate) fn when(t: OffsetDateTime) -> Markup {
    let exact = t
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    html! {
        time datetime=(exact) title=(exact) { (clock(t)) }
        " " span class="muted small" { (ago(t, OffsetDateTime::now_utc())) }
    }
}

/// `2026-12-07 15:31 UTC`.
pub(crate) fn clock(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// How long ago (or from now) `t` is, in one unit: `just now`, `5 min ago`, `in 2 h`.
pub(crate) fn ago(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (now - t).whole_seconds();
    let (future, s) = (secs < 0, secs.unsigned_abs());
    let text = match s {
        0..=44 => return "just now".to_owned(),
        45..=3599 => format!("{} min", (s + 30) / 60),
        3600..=86_399 => format!("{} h", (s + 1800) / 3600),
        _ => format!("{} d", (s + 43_200) / 86_400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// An empty list: what would be here, and how to make it appear.
pub(crate) fn empty(what: &str, how: &str) -> Markup {
    html! {
        div class="empty" {
            p class="empty-title" { (what) }
            p class="muted" { (how) }
        }
    }
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(signed: &Signed) -> Markup {
    html! { input type="hidden" name=(crate::csrf::FIELD) value=(signed.csrf); }
}

/// A notice after a change (`?done=…`), from a fixed list so nothing of the URL is echoed.
pub(crate) fn notice(done: Option<&str>) -> Markup {
    let text = match done {
        Some("approved") => "Approved. The call ran; its result is below.",
        Some("denied") => "Denied. The agent will see the denial.",
        Some("maturity") => "Maturity changed. It applies to the agent's next call.",
        Some("disabled") => "Disabled. Its next call is refused.",
        Some("enabled") => "Enabled again.",
        Some("revoked") => "Revoked.",
        Some("connected") => "Connected. Agents of this user can use the workspace now.",
        Some("signed-out") => "You are signed out.",
        _ => return html! {},
    };
    html! { p class="notice" role="status" { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_in_the_middle_and_kept_whole_in_the_title() {
        let s = "a".repeat(100) + "END";
        let m = mid(&s, 21).into_string();
        assert!(
            m.contains("…aEND") || m.contains("…END") || m.contains("aaEND"),
            "{m}"
        );
        assert!(m.contains(&format!("title=\"{s}\"")));
        assert_eq!(mid("short", 21).into_string(), "<span>short</span>");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1000);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - time::Duration::minutes(5), now), "5 min ago");
        assert_eq!(ago(now + time::Duration::hours(2), now), "in 2 h");
        assert_eq!(ago(now - time::Duration::days(3), now), "3 d ago");
    }

    #[test]
    fn every_colour_comes_with_its_word() {
        let m = status("needs_approval").into_string();
        assert!(m.contains("needs approval") && m.contains("wait"), "{m}");
    }
}
