//! Streaming search of a file for lines holding any of a few byte strings:
//! memchr's SIMD `memmem` over large blocks, one search per string, so only
//! the lines that hold one are looked at and memory stays one block whatever
//! the file's size.
//!
//! One `memmem` per string rather than one multi-pattern automaton: txids
//! share prefixes with every other line (`req-17`, `build-3`), which sends a
//! multi-pattern prefilter (aho-corasick's Teddy) to verify nearly every
//! line, while `memmem` picks each needle's rarest bytes (`benches/trace.sh`:
//! 0.26x `grep -F`'s speed with aho-corasick, above 1x with `memmem`).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use memchr::memmem::Finder;

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
/// of the `needles`, in file order, the line without its `\n`. A last line without
/// `\n` counts (it may be being written). Returns the offset after the last
/// line looked at: the end of the file, or after the line that said
/// [`Next::Stop`].
pub(crate) fn lines_holding(
    file: &mut File,
    from: u64,
    needles: &[Finder<'_>],
    mut found: impl FnMut(u64, &[u8]) -> Next,
) -> io::Result<u64> {
    file.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0;
    let mut base = from; // file offset of buf[0]
    let mut starts: Vec<usize> = Vec::new();
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
        // The start of every line holding a needle, once, in order.
        starts.clear();
        for needle in needles {
            let mut pos = 0;
            while let Some(at) = needle.find(&region[pos..]) {
                let at = pos + at;
                starts.push(memchr::memrchr(b'\n', &region[..at]).map_or(0, |i| i + 1));
                // Skip to the next line: one report per line and needle.
                pos = match memchr::memchr(b'\n', &region[at..]) {
                    Some(i) => at + i + 1,
                    None => region.len(),
                };
            }
        }
        if needles.len() > 1 {
            starts.sort_unstable();
            starts.dedup();
        }
        for &start in &starts {
            let stop = memchr::memchr(b'\n', &region[start..]).map_or(region.len(), |i| start + i);
            if let Next::Stop = found(base + start as u64, &region[start..stop]) {
                return Ok(base + (stop + 1).min(region.len()) as u64);
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
        let finders: Vec<Finder<'_>> = needles.iter().map(Finder::new).collect();
        let mut out = Vec::new();
        lines_holding(&mut f, 0, &finders, |off, line| {
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
