//! A bounded HTTP(S) load generator for scripts/bench-tls: `wrk` cannot present client
//! certificates. Keeps connections alive, or (`--handshakes`) opens a new TLS connection
//! for every request, and prints requests/s and latency percentiles.
//!
//! cargo run --release --example https_load -- URL [--ca PEM] [--identity PEM]
//!     [--connections N] [--seconds S] [--handshakes]
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).cloned().expect("usage: https_load URL [options]");
    let connections: usize = arg(&args, "--connections").map_or(16, |v| v.parse().unwrap());
    let seconds: u64 = arg(&args, "--seconds").map_or(10, |v| v.parse().unwrap());
    let handshakes = args.iter().any(|a| a == "--handshakes");
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = arg(&args, "--ca") {
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap());
    }
    if let Some(identity) = arg(&args, "--identity") {
        builder = builder.identity(reqwest::Identity::from_pem(&std::fs::read(identity).unwrap()).unwrap());
    }
    if handshakes {
        builder = builder.pool_max_idle_per_host(0);
    }
    let client = builder.build().unwrap();
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < until {
                    let start = Instant::now();
                    match client.get(&url).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(start.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (latencies, e) = worker.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{:.0} {:.2?} {:.2?} {}",
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99),
        errors
    );
}
