//! Timestamps as Tacker's v1.0 API writes them (Python `str(datetime)`).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Now, truncated to whole microseconds (what every database backend keeps).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

/// `2024-05-01 10:11:12`, or with `.ffffff` when there are microseconds, as Python prints it.
pub fn tacker_datetime(t: &DateTime<Utc>) -> String {
    // Written out by hand: chrono's strftime parser is measurable in VIM list responses.
    let date = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.nanosecond() / 1000 {
        0 => date,
        micros => format!("{date}.{micros:06}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_like_python_str() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 11, 12).unwrap();
        assert_eq!(tacker_datetime(&t), "2024-05-01 10:11:12");
        let t = t.with_nanosecond(5_000).unwrap();
        assert_eq!(tacker_datetime(&t), "2024-05-01 10:11:12.000005");
    }
}
