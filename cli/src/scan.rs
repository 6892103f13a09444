//! Streaming search of a file for lines holding any of a set of byte
//! strings: aho-corasick over large blocks, so only the lines that hold one
//! are looked at and memory stays one block whatever the file's size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use aho_corasick::AhoCorasick;

/// Bytes read at a time.
const BLOCK: usize = 1 << 20;

/// What the caller wants after a line.
pub(crate) enum Next {
    /// Go on with the same needles.
    Continue,
    /// The needles changed: stop after this line.
    Stop,
}

/// Calls `found(offset, line)` for each line from `from` on that holds one
/// of the needles `ac` finds, the line without its `\n`. A last line without
/// `\n` counts (it may be being written). Returns the offset after the last
/// line looked at: the end of the file, or after the line that said
/// [`Next::Stop`].
pub(crate) fn lines_holding(
    file: &mut File,
    from: u64,
    ac: &AhoCorasick,
    mut found: impl FnMut(u64, &[u8]) -> Next,
) -> io::Result<u64> {
    file.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0;
    let mut base = from; // file offset of buf[0]
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // one line longer than the block
        }
        let n = file.read(&mut buf[filled..])?;
        filled += n;
        let eof = n == 0;
        let end = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(i) => i + 1,
                None => continue,
            }
        };
        let region = &buf[..end];
        let mut pos = 0;
        while let Some(m) = ac.find(aho_corasick::Input::new(region).span(pos..region.len())) {
            let start = memchr::memrchr(b'\n', &region[..m.start()]).map_or(0, |i| i + 1);
            let stop = memchr::memchr(b'\n', &region[m.end()..]).map_or(region.len(), |i| m.end() + i);
            pos = (stop + 1).min(region.len());
            if let Next::Stop = found(base + start as u64, &region[start..stop]) {
                return Ok(base + pos as u64);
            }
            if pos >= region.len() {
                break;
            }
        }
        if eof {
            return Ok(base + filled as u64);
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
        base += end as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn hits(text: &str, needles: &[&str]) -> Vec<(u64, String)> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let ac = AhoCorasick::new(needles).unwrap();
        let mut out = Vec::new();
        lines_holding(&mut f, 0, &ac, |off, line| {
            out.push((off, String::from_utf8_lossy(line).into_owned()));
            Next::Continue
        })
        .unwrap();
        out
    }

    #[test]
    fn finds_each_line_once_with_its_offset() {
        let text = "a x\nb\nc x x\nd\nx";
        assert_eq!(
            hits(text, &["x"]),
            [(0, "a x".into()), (6, "c x x".into()), (14, "x".into())]
        );
    }

    #[test]
    fn lines_across_blocks_and_longer_than_a_block() {
        let long = "y".repeat(BLOCK * 2 + 7);
        let text = format!("{}\n{long}needle\nshort needle\n", "z".repeat(BLOCK - 3));
        let got = hits(&text, &["needle"]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, (BLOCK - 2) as u64);
        assert!(got[0].1.ends_with("needle") && got[0].1.len() == long.len() + 6);
        assert_eq!(got[1].1, "short needle");
    }
}
