//! Timestamps as Tacker's v1.0 API writes them (Python `str(datetime)`).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Now, truncated to whole microseconds (what every database backend keeps).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

/// `2024-05-01 10:11:12`: Python's `str(datetime)` of a value from Tacker's tables, which
/// keep whole seconds (MySQL `DATETIME`); the microseconds tacker-rs stores are not shown.
pub fn tacker_datetime(t: &DateTime<Utc>) -> String {
    // Written out by hand: chrono's strftime parser is measurable in VIM list responses.
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_whole_seconds_like_tacker() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 11, 12).unwrap();
        assert_eq!(tacker_datetime(&t), "2024-05-01 10:11:12");
        let t = t.with_nanosecond(490_856_000).unwrap();
        assert_eq!(tacker_datetime(&t), "2024-05-01 10:11:12");
    }
}
