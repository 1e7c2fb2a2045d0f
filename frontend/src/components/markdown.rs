//! A Markdown document that Rollgate itself wrote (`shared::review::to_markdown`), drawn as
//! the page's own headings, paragraphs, quotes, lists and tables. Only the constructs that
//! writer uses are read; everything is drawn as text, never as HTML.

use leptos::prelude::*;

/// One block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `#` (level 1) to `###`.
    Heading(usize, String),
    Paragraph(String),
    /// Consecutive `>` lines, joined by line breaks.
    Quote(String),
    /// Consecutive `- ` items (a `[ ] ` checkbox is dropped).
    List(Vec<String>),
    /// A header row, the `---` row, then rows.
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// The blocks of `md`, in order.
pub fn blocks(md: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in md.lines() {
        let t = line.trim_end();
        let last = out.last_mut();
        if t.is_empty() {
            // A blank line ends a paragraph, a quote or a list: push a marker-free break by
            // starting the next block afresh.
            out.push(Block::Paragraph(String::new()));
        } else if let Some(rest) = t.strip_prefix('#') {
            let level = 1 + rest.chars().take_while(|c| *c == '#').count();
            out.push(Block::Heading(
                level,
                inline(rest.trim_start_matches('#').trim()),
            ));
        } else if let Some(rest) = t.strip_prefix('>') {
            let text = inline(rest.trim_start());
            match last {
                Some(Block::Quote(q)) => {
                    q.push('\n');
                    q.push_str(&text);
                }
                _ => out.push(Block::Quote(text)),
            }
        } else if let Some(rest) = t.strip_prefix("- ") {
            let item = inline(
                rest.strip_prefix("[ ] ")
                    .or_else(|| rest.strip_prefix("[x] "))
                    .unwrap_or(rest),
            );
            match last {
                Some(Block::List(items)) => items.push(item),
                _ => out.push(Block::List(vec![item])),
            }
        } else if t.starts_with('|') {
            let row = cells(t);
            match last {
                Some(Block::Table { rows, .. }) => {
                    if !row
                        .iter()
                        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-'))
                    {
                        rows.push(row);
                    }
                }
                _ => out.push(Block::Table {
                    head: row,
                    rows: Vec::new(),
                }),
            }
        } else {
            match last {
                Some(Block::Paragraph(p)) if !p.is_empty() => {
                    p.push(' ');
                    p.push_str(&inline(t));
                }
                _ => out.push(Block::Paragraph(inline(t))),
            }
        }
    }
    out.retain(|b| !matches!(b, Block::Paragraph(p) if p.is_empty()));
    out
}

/// The cells of a table row: split on `|` except where escaped (`\|`).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => out.push(inline(std::mem::take(&mut cell).trim())),
            _ => cell.push(c),
        }
    }
    out.push(inline(cell.trim()));
    out
}

/// Text without the writer's inline marks (`**bold**`, `` `code` ``).
fn inline(s: &str) -> String {
    s.replace("**", "").replace('`', "")
}

/// The document, its first heading left out (the page has its own title).
#[component]
pub fn Document(#[prop(into)] md: String) -> impl IntoView {
    blocks(&md)
        .into_iter()
        .skip_while(|b| matches!(b, Block::Heading(1, _)))
        .map(|b| match b {
            Block::Heading(_, t) => view! { <h2 class="doc-heading">{t}</h2> }.into_any(),
            Block::Paragraph(t) => view! { <p class="prose">{t}</p> }.into_any(),
            Block::Quote(t) => view! { <blockquote class="prose" data-test="doc-quote">{t}</blockquote> }.into_any(),
            Block::List(items) => view! {
                <ul class="plain-list">{items.into_iter().map(|i| view! { <li data-test="doc-item">{i}</li> }).collect_view()}</ul>
            }
            .into_any(),
            Block::Table { head, rows } => view! {
                <div class="table-scroll">
                    <table class="table">
                        <thead><tr>{head.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                        <tbody>{rows.into_iter().map(|r| view! {
                            <tr data-test="doc-row">{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            }
            .into_any(),
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::{Block, blocks};

    #[test]
    fn the_review_writers_constructs_are_read() {
        let md = "# Post-deployment review: A\n\nFlag `a` · Full\n\n## Expected\n\n> Shorter\n> answers.\n\n\
                  ## Measured\n\n| metric | change |\n| --- | --- |\n| Cost \\| USD | +12.0 % |\n\n\
                  ## Follow-ups\n\n- [ ] Add cases\n- Watch\nmore text\n";
        assert_eq!(
            blocks(md),
            vec![
                Block::Heading(1, "Post-deployment review: A".into()),
                Block::Paragraph("Flag a · Full".into()),
                Block::Heading(2, "Expected".into()),
                Block::Quote("Shorter\nanswers.".into()),
                Block::Heading(2, "Measured".into()),
                Block::Table {
                    head: vec!["metric".into(), "change".into()],
                    rows: vec![vec!["Cost | USD".into(), "+12.0 %".into()]],
                },
                Block::Heading(2, "Follow-ups".into()),
                Block::List(vec!["Add cases".into(), "Watch".into()]),
                Block::Paragraph("more text".into()),
            ]
        );
    }

    #[test]
    fn a_whole_review_reads_with_every_section() {
        use shared::review::{Review, ReviewFacts, to_markdown};
        let review = Review {
            change_id: "c".into(),
            title: "Shorter | answers".into(),
            flag_key: "k".into(),
            state: "Full".into(),
            facts: ReviewFacts {
                expected_changes: "Shorter.\nCheaper.".into(),
                report_source: None,
                overall: None,
                measured: Vec::new(),
                interruptions: Vec::new(),
                stages: Vec::new(),
                notices: Vec::new(),
                complaints: Vec::new(),
                decision: None,
            },
            written: None,
            users_noticed_draft: String::new(),
        };
        let read = blocks(&to_markdown(&review));
        let headings: Vec<&str> = read
            .iter()
            .filter_map(|b| match b {
                Block::Heading(_, t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(headings[0], "Post-deployment review: Shorter | answers");
        assert!(headings.contains(&"Holds and rollbacks"), "{headings:?}");
        assert!(read.contains(&Block::Quote("Shorter.\nCheaper.".into())));
    }
}
