//! `rollgate push --change KEY windows.jsonl`: metric windows from a file, one JSON object a
//! line, sent in batches through the ingestion route.
//!
//! Resuming: after each batch the server acknowledges, `FILE.rollgate-progress` records how
//! far into the file it reached (bytes, and a SHA-256 of them, so that an edited file is sent
//! again from its start). A rerun after an interruption (a bad line, a lost connection, a
//! killed job) starts after the acknowledged part. Counting twice is ruled out by the server
//! anyway: a window is identified by change, variant, segment, start and end, and sending it
//! again replaces it; the progress file saves sending it again.

use std::path::{Path, PathBuf};

use hyper::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::metrics::{MetricBatch, MetricWindow};

use super::client::{Client, Failure, Result, encode};
use super::{Exit, resolve};

/// What the progress file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Progress {
    /// The change the windows went to.
    change_id: String,
    /// Bytes of the file whose windows the server acknowledged.
    bytes: usize,
    /// SHA-256 of those bytes, lowercase hex.
    sha256: String,
}

/// The progress file of `file`: beside it, named after it.
pub fn progress_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rollgate-progress");
    PathBuf::from(name)
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where to start in `data` for `change_id`: after the acknowledged part when the progress
/// file matches the file and the change, else at 0.
fn resume_at(progress: Option<&Progress>, change_id: &str, data: &[u8]) -> usize {
    match progress {
        Some(p)
            if p.change_id == change_id
                && p.bytes <= data.len()
                && digest(&data[..p.bytes]) == p.sha256 =>
        {
            p.bytes
        }
        _ => 0,
    }
}

fn save(path: &Path, progress: &Progress) -> Result<()> {
    let text = serde_json::to_string(progress).unwrap_or_default();
    let tmp = path.with_extension("rollgate-progress.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            Failure::Usage(format!(
                "the server has the windows sent so far, but {} could not be written ({e}); \
                 a rerun sends them again, which replaces them without counting twice",
                path.display()
            ))
        })
}

/// One window read from the file: its line number and where its line ends.
struct Line {
    number: usize,
    end: usize,
    window: MetricWindow,
}

pub async fn push(client: &Client, key: &str, file: &Path, batch: usize) -> Result<Exit> {
    let name = file.display().to_string();
    let data =
        std::fs::read(file).map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
    let change = resolve(client, key).await?.change;
    let progress_file = progress_path(file);
    let progress: Option<Progress> = std::fs::read(&progress_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let start = resume_at(progress.as_ref(), &change.id, &data);
    let skipped = data[..start]
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count();
    if progress.is_some() && start == 0 {
        println!(
            "{} does not match {name} or this change; sending the whole file",
            progress_file.display()
        );
    }

    let mut number = data[..start].iter().filter(|b| **b == b'\n').count();
    let mut offset = start;
    let mut pending: Vec<Line> = Vec::new();
    let (mut sent, mut replaced, mut batches) = (0u64, 0u64, 0u64);
    let mut failure = None;
    while offset < data.len() {
        let end = data[offset..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(data.len(), |i| offset + i + 1);
        let line = &data[offset..end];
        number += 1;
        offset = end;
        if line.trim_ascii().is_empty() {
            continue;
        }
        match rollgate::http::extract::parse_json::<MetricWindow>(line) {
            Ok(window) => pending.push(Line {
                number,
                end,
                window,
            }),
            Err(e) => {
                let message = match e {
                    rollgate::error::Error::Validation { message, .. } => message,
                    other => other.to_string(),
                };
                failure = Some(Failure::Problems {
                    file: name.clone(),
                    problems: vec![format!("line {number}: {message}")],
                });
                break;
            }
        }
        if pending.len() == batch {
            let (a, r) = send(client, &change.id, &name, &pending).await?;
            record(
                &progress_file,
                &change.id,
                &data,
                pending.last().map(|l| l.end),
            )?;
            (sent, replaced, batches) = (sent + a, replaced + r, batches + 1);
            pending.clear();
        }
    }
    if failure.is_none() && !pending.is_empty() {
        let (a, r) = send(client, &change.id, &name, &pending).await?;
        record(
            &progress_file,
            &change.id,
            &data,
            pending.last().map(|l| l.end),
        )?;
        (sent, replaced, batches) = (sent + a, replaced + r, batches + 1);
    }
    let skipped_note = if skipped > 0 {
        format!("; {skipped} skipped, acknowledged by an earlier run")
    } else {
        String::new()
    };
    println!(
        "pushed {sent} windows in {batches} batch{} to {}{}{skipped_note}",
        if batches == 1 { "" } else { "es" },
        change.flag_key,
        if replaced > 0 {
            format!(" ({replaced} replaced windows already stored)")
        } else {
            String::new()
        }
    );
    match failure {
        Some(f) => Err(f),
        None => Ok(Exit::Ok),
    }
}

fn record(path: &Path, change_id: &str, data: &[u8], end: Option<usize>) -> Result<()> {
    let Some(end) = end else { return Ok(()) };
    save(
        path,
        &Progress {
            change_id: change_id.to_owned(),
            bytes: end,
            sha256: digest(&data[..end]),
        },
    )
}

/// Sends one batch; a window the server refuses is named by its line.
async fn send(client: &Client, change_id: &str, file: &str, lines: &[Line]) -> Result<(u64, u64)> {
    let body = MetricBatch {
        windows: lines.iter().map(|l| l.window.clone()).collect(),
    };
    let answer = client
        .send_json(
            Method::POST,
            &format!("/changes/{}/metrics", encode(change_id)),
            &body,
        )
        .await
        .map_err(|f| match f {
            Failure::Server {
                status,
                code,
                message,
                field: Some(field),
            } => {
                // `windows[3].metrics.cost` → line of the fourth window, field `metrics.cost`.
                let at = field
                    .strip_prefix("windows[")
                    .and_then(|rest| rest.split_once(']'))
                    .and_then(|(i, rest)| {
                        let i: usize = i.parse().ok()?;
                        Some((
                            lines.get(i)?.number,
                            rest.trim_start_matches('.').to_owned(),
                        ))
                    });
                match at {
                    Some((number, inner)) => Failure::Server {
                        status,
                        code,
                        message: format!("{file} line {number}: {message}"),
                        field: Some(inner).filter(|f| !f.is_empty()),
                    },
                    None => Failure::Server {
                        status,
                        code,
                        message,
                        field: Some(field),
                    },
                }
            }
            other => other,
        })?;
    let result: serde_json::Value = answer.json()?;
    Ok((
        result["accepted"].as_u64().unwrap_or_default(),
        result["replaced"].as_u64().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_only_for_the_same_bytes_and_change() {
        let data = b"{\"a\":1}\n{\"a\":2}\n";
        let p = Progress {
            change_id: "c".into(),
            bytes: 8,
            sha256: digest(&data[..8]),
        };
        assert_eq!(resume_at(Some(&p), "c", data), 8);
        assert_eq!(resume_at(Some(&p), "other", data), 0);
        assert_eq!(resume_at(Some(&p), "c", b"{\"a\":9}\n{\"a\":2}\n"), 0);
        assert_eq!(resume_at(Some(&p), "c", b"{\"a\""), 0);
        assert_eq!(resume_at(None, "c", data), 0);
        assert_eq!(
            progress_path(Path::new("/x/w.jsonl")),
            PathBuf::from("/x/w.jsonl.rollgate-progress")
        );
    }
}
