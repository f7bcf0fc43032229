//! The bike-days attestation (Forfait Mobilités Durables) as a PDF an
//! employee can hand to an employer: a sworn statement with the name, the
//! employer, the year, every day and the totals.
//!
//! A4 pages of text in the standard Helvetica fonts (no font to embed), so
//! the writer is small: a PDF 1.4 file with one content stream per page.

use crate::clock::local_date;
use crate::i18n::Tr;
use crate::views::BikeDays;
use sillage_model::Timestamp;
use std::fmt::Write;

const PAGE_W: f64 = 595.0;
const PAGE_H: f64 = 842.0;
const MARGIN: f64 = 56.0;
const LINE: f64 = 15.0;
/// Characters per line of body text at 11 pt (Helvetica averages ~0.5 em).
const WRAP: usize = 88;

/// One line of the document.
enum Line {
    Title(String),
    Text(String),
    Gap,
}

/// Renders the attestation.
pub fn attestation(t: Tr, goal: &BikeDays, name: &str, employer: &str) -> Vec<u8> {
    let dash = |s: &str| {
        if s.trim().is_empty() {
            "…………………………".to_owned()
        } else {
            s.trim().to_owned()
        }
    };
    let mut lines = vec![Line::Title(t.f("pdf.title", goal.year)), Line::Gap];
    let statement = t
        .s("pdf.statement")
        .replace("{name}", &dash(name))
        .replace("{employer}", &dash(employer))
        .replace("{year}", &goal.year.to_string());
    lines.extend(wrap(&statement).into_iter().map(Line::Text));
    lines.push(Line::Gap);
    for chunk in goal.days.chunks(5) {
        lines.push(Line::Text(
            chunk.iter().map(|d| format!("{d:<14}")).collect::<String>(),
        ));
    }
    lines.push(Line::Gap);
    lines.push(Line::Text(
        t.s("pdf.totals")
            .replace("{days}", &goal.days.len().to_string())
            .replace("{km}", &format!("{:.1}", goal.km)),
    ));
    lines.push(Line::Gap);
    lines.extend(
        wrap(
            &t.s("pdf.source")
                .replace("{date}", &local_date(Timestamp::now())),
        )
        .into_iter()
        .map(Line::Text),
    );
    lines.push(Line::Gap);
    lines.push(Line::Text(t.s("pdf.signature").to_owned()));
    write_pdf(&lines)
}

/// Splits text into lines of at most [`WRAP`] characters at spaces.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > WRAP {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Text as a PDF string in WinAnsiEncoding (the standard fonts' encoding),
/// with `(`, `)` and `\` escaped.
fn pdf_string(text: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in text.chars() {
        let byte = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'œ' => 0x9C,
            'Œ' => 0x8C,
            _ => b'?',
        };
        out.push(byte);
    }
    out.push(b')');
    out
}

fn write_pdf(lines: &[Line]) -> Vec<u8> {
    let per_page = ((PAGE_H - 2.0 * MARGIN) / LINE) as usize;
    let pages: Vec<&[Line]> = lines.chunks(per_page.max(1)).collect();
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1: catalog, 2: page tree, 3–4: fonts, then a page and its contents
    // per page.
    let first_page = 5;
    let kids: String = (0..pages.len())
        .map(|i| format!("{} 0 R ", first_page + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", pages.len()).into_bytes());
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, page) in pages.iter().enumerate() {
        let mut content = Vec::new();
        let mut y = PAGE_H - MARGIN;
        for line in page.iter() {
            let (font, size, text) = match line {
                Line::Title(text) => ("F2", 15, text.as_str()),
                Line::Text(text) => ("F1", 11, text.as_str()),
                Line::Gap => {
                    y -= LINE / 2.0;
                    continue;
                }
            };
            content.extend(format!("BT /{font} {size} Tf {MARGIN} {y:.1} Td ").into_bytes());
            content.extend(pdf_string(text));
            content.extend(b" Tj ET\n");
            y -= LINE;
        }
        let contents_id = first_page + 2 * i + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {contents_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend(table.into_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn goal(days: usize) -> BikeDays {
        BikeDays {
            year: 2026,
            target: 100,
            days: (0..days)
                .map(|i| format!("2026-{:02}-{:02}", 1 + i / 28, 1 + i % 28))
                .collect(),
            km: 812.4,
        }
    }

    #[test]
    fn the_attestation_is_a_well_formed_pdf_with_the_days() {
        let pdf = attestation(Tr(Lang::Fr), &goal(300), "Zoé Lefèvre", "Ville (Nord)");
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        // Offsets are in bytes: check them on the bytes.
        let tail = &pdf[pdf.len() - 40..];
        let tail = std::str::from_utf8(tail).unwrap();
        let xref_at: usize = tail
            .split("startxref\n")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref"));
        let table = std::str::from_utf8(&pdf[xref_at..]).unwrap();
        let entries = table.lines().skip(3).take_while(|l| l.ends_with(" n "));
        for (i, line) in entries.enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
        // WinAnsi: é is 0xE9; parentheses escaped; a second page for 300 days.
        assert!(pdf.windows(4).any(|w| w == b"Zo\xE9 "));
        assert!(text.contains("Ville \\(Nord\\)"));
        assert!(text.contains("2026-05-08"));
        assert!(text.contains("/Count 2"), "300 days need two pages");
        assert!(text.contains("812.4"));
    }

    #[test]
    fn long_text_wraps_at_spaces() {
        let lines = wrap(&"mot ".repeat(60));
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= WRAP));
    }
}
