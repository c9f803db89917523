//! kube-apiserver's `--token-auth-file`: CSV lines `token,user,uid,"group1,group2"`.

use crate::auth::UserInfo;
use crate::error::Error;

/// Splits one CSV line, honouring double quotes.
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses a token file into `(token, user)` pairs.
pub fn parse_token_file(text: &str) -> Result<Vec<(String, UserInfo)>, Error> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f = fields(line);
        if f.len() < 3 || f[0].is_empty() || f[1].is_empty() {
            return Err(Error::Config(format!(
                "token file line {}: want token,user,uid[,\"groups\"]",
                n + 1
            )));
        }
        let groups = f
            .get(3)
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        out.push((
            f[0].clone(),
            UserInfo {
                username: f[1].clone(),
                uid: f[2].clone(),
                groups,
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_groups() {
        let users = parse_token_file("# c\nt1,alice,u1,\"dev,ops\"\nt2,bob,u2\n").unwrap();
        assert_eq!(users[0].0, "t1");
        assert_eq!(users[0].1.groups, vec!["dev", "ops"]);
        assert_eq!(users[1].1.username, "bob");
        assert!(users[1].1.groups.is_empty());
        assert!(parse_token_file("only-token\n").is_err());
    }
}
