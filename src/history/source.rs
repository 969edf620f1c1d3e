//! The bytes of a history file, for the reader: small files through a plain buffer, large
//! ones read ahead on a thread of their own, with direct I/O where the system has it.
//!
//! Why direct I/O: a history is read once, front to back, and can be tens of gigabytes.
//! Through the page cache every byte is copied twice and cached for nothing; on the
//! 2-core machine kind CI runs on, reading 21 GB that way cost 23–28 s of kernel time
//! (`cat`, `dd bs=4M`), against 0.5 s with `O_DIRECT` (`dd iflag=direct`, 7.8 s wall),
//! and that kernel time is taken from the checker's two cores (docs/performance.md).
//! Reading ahead on a thread keeps the parser from waiting on the disk: direct reads
//! have no kernel read-ahead.
//!
//! Direct I/O wants aligned buffers, offsets and lengths. A file system that refuses it
//! (at open or at a read) is read through the page cache instead, from where it stood:
//! the same bytes either way.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Files at least this large are read ahead (and directly where possible); smaller ones
/// are likely still in the page cache from the run that wrote them, and a thread would
/// cost more than it saves.
#[cfg(not(test))]
pub const READ_AHEAD_FROM: u64 = 64 << 20;

/// In the library's tests, 1 MiB: the reader's own tests (a 30,000-record file with CRLF
/// ends and a torn tail, a blank line past 16 MiB) and the checker's (a 60k-record
/// history judged from its file in segments) then read through [`Ahead`].
#[cfg(test)]
pub const READ_AHEAD_FROM: u64 = 1 << 20;

/// Bytes per read ahead: large enough that a read's fixed cost is nothing, small enough
/// that the buffers in flight ([`IN_FLIGHT`] of them) stay a few megabytes.
pub const CHUNK: usize = 4 << 20;

/// Buffers filled ahead of the parser, plus the one it reads.
const IN_FLIGHT: usize = 2;

/// Alignment direct I/O asks of buffer addresses, file offsets and lengths: 4096 covers
/// every logical block size in use (512 and 4096).
const ALIGN: usize = 4096;

/// A history's bytes, as a [`BufRead`].
pub enum Source {
    /// Read in the caller's thread through the page cache.
    Plain(BufReader<File>),
    /// Read ahead on a thread of its own.
    Ahead(Ahead),
}

impl Source {
    /// Opens `path`: read ahead in [`CHUNK`]s when it is at least [`READ_AHEAD_FROM`]
    /// bytes, plainly otherwise.
    pub fn open(path: &Path) -> io::Result<Source> {
        let file = File::open(path)?;
        if file.metadata()?.len() >= READ_AHEAD_FROM {
            Ok(Source::Ahead(Ahead::start(path, file, CHUNK)?))
        } else {
            Ok(Source::Plain(BufReader::with_capacity(1 << 20, file)))
        }
    }

    /// Whether bytes come by direct I/O (read ahead, and the file system took it).
    #[cfg(test)]
    pub fn is_direct(&self) -> bool {
        matches!(self, Source::Ahead(a) if a.direct)
    }
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Plain(r) => r.fill_buf(),
            Source::Ahead(a) => a.fill_buf(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Source::Plain(r) => r.consume(n),
            Source::Ahead(a) => a.consume(n),
        }
    }
}

/// A filled buffer: its bytes are `buf[at..at + len]` (`at` aligns the storage).
struct Chunk {
    buf: Vec<u8>,
    at: usize,
    len: usize,
}

/// Chunks read ahead by a thread; the parser reads one while the thread fills the next.
pub struct Ahead {
    /// Filled chunks, in file order; an error ends them; closed at the end of the file.
    filled: Option<Receiver<io::Result<Chunk>>>,
    /// Chunks read, given back for the thread to fill again.
    back: Option<SyncSender<Vec<u8>>>,
    cur: Option<Chunk>,
    pos: usize,
    /// Whether the file was opened for direct I/O (it may still fall back at a read);
    /// read by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    direct: bool,
    thread: Option<JoinHandle<()>>,
}

impl Ahead {
    /// Starts reading `path` (already open as `plain`) in chunks of `chunk` bytes, a
    /// multiple of [`ALIGN`].
    pub fn start(path: &Path, plain: File, chunk: usize) -> io::Result<Ahead> {
        assert!(
            chunk > 0 && chunk.is_multiple_of(ALIGN),
            "chunk {chunk} is not a multiple of {ALIGN}"
        );
        let (file, direct) = match open_direct(path) {
            Some(f) => (f, true),
            None => (plain, false),
        };
        let (fill_tx, fill_rx) = sync_channel(IN_FLIGHT);
        let (back_tx, back_rx) = sync_channel(IN_FLIGHT + 2);
        for _ in 0..IN_FLIGHT + 1 {
            // Room for the aligned start: the storage is over-allocated, not unsafely
            // allocated with an alignment.
            back_tx
                .send(vec![0u8; chunk + ALIGN])
                .expect("the receiver is held here");
        }
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("history-read".into())
            .spawn(move || fill(file, direct, path, chunk, back_rx, fill_tx))?;
        Ok(Ahead {
            filled: Some(fill_rx),
            back: Some(back_tx),
            cur: None,
            pos: 0,
            direct,
            thread: Some(thread),
        })
    }

    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.cur.as_ref().is_none_or(|c| self.pos == c.len) {
            if let Some(c) = self.cur.take() {
                // The thread may have ended (end of file): nothing to give back to.
                if let Some(back) = &self.back {
                    let _ = back.send(c.buf);
                }
            }
            self.pos = 0;
            let Some(rx) = &self.filled else {
                return Ok(&[]);
            };
            match rx.recv() {
                Ok(Ok(c)) => self.cur = Some(c),
                Ok(Err(e)) => {
                    self.filled = None;
                    return Err(e);
                }
                // The end of the file.
                Err(_) => {
                    self.filled = None;
                    return Ok(&[]);
                }
            }
        }
        let c = self.cur.as_ref().expect("filled above");
        Ok(&c.buf[c.at + self.pos..c.at + c.len])
    }

    fn consume(&mut self, n: usize) {
        let len = self.cur.as_ref().map_or(0, |c| c.len);
        self.pos = (self.pos + n).min(len);
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // Closing both channels ends the thread at its next send or wait for a buffer,
        // so a reader stopped early (its consumer gone) leaves no thread reading the
        // rest of the file.
        self.filled = None;
        self.back = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens `path` for direct I/O; `None` where the system or file system has none.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

/// The thread: fills each buffer given back with the next `chunk` bytes of the file and
/// sends it on, until the end of the file, an error, or the reader is gone.
fn fill(
    mut file: File,
    mut direct: bool,
    path: std::path::PathBuf,
    chunk: usize,
    back: Receiver<Vec<u8>>,
    filled: SyncSender<io::Result<Chunk>>,
) {
    let mut offset: u64 = 0;
    while let Ok(mut buf) = back.recv() {
        let at = buf.as_ptr().align_offset(ALIGN);
        let mut len = 0;
        let mut end = false;
        while len < chunk {
            let fall_back = match file.read(&mut buf[at + len..at + chunk]) {
                Ok(0) => {
                    end = true;
                    break;
                }
                Ok(n) => {
                    len += n;
                    offset += n as u64;
                    // A direct read short of an aligned length (the file's end, or a
                    // file system's own rule) leaves the next one unaligned.
                    direct && !n.is_multiple_of(ALIGN)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => false,
                // A file system that took O_DIRECT at open but refuses its reads.
                // (EINVAL, which std reads as `InvalidInput`.)
                Err(e) if direct && e.kind() == io::ErrorKind::InvalidInput => true,
                Err(e) => {
                    let _ = filled.send(Err(e));
                    return;
                }
            };
            if fall_back {
                // On through the page cache, from where direct reads stopped.
                match reopen_plain(&path, offset) {
                    Ok(f) => file = f,
                    Err(e) => {
                        let _ = filled.send(Err(e));
                        return;
                    }
                }
                direct = false;
            }
        }
        if len > 0 && filled.send(Ok(Chunk { buf, at, len })).is_err() {
            return;
        }
        if end {
            return;
        }
    }
}

/// `path` opened through the page cache, at `offset`.
fn reopen_plain(path: &Path, offset: u64) -> io::Result<File> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A file of numbered lines of varying length, `bytes` long or a little more.
    fn lines_file(name: &str, bytes: usize) -> (std::path::PathBuf, Vec<u8>) {
        let dir = std::env::temp_dir().join(format!("qb-source-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("h.jsonl");
        let mut data = Vec::new();
        let mut k = 0u64;
        while data.len() < bytes {
            // Lengths from 1 to ~300 bytes, so lines cross chunk ends at every offset.
            let pad = "x".repeat((k * 37 % 300) as usize);
            writeln!(data, "{k} {pad}").unwrap();
            k += 1;
        }
        std::fs::write(&path, &data).unwrap();
        (path, data)
    }

    fn read_all(mut s: impl BufRead) -> Vec<u8> {
        let mut got = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            if s.read_until(b'\n', &mut line).unwrap() == 0 {
                return got;
            }
            got.extend_from_slice(&line);
        }
    }

    #[test]
    fn read_ahead_gives_the_files_bytes_across_chunk_ends_and_an_unaligned_end() {
        // 40 chunks and a tail that is not a multiple of the alignment.
        let (path, data) = lines_file("ahead", 40 * 8192 + 1234);
        assert!(!data.len().is_multiple_of(ALIGN));
        let a = Ahead::start(&path, File::open(&path).unwrap(), 8192).unwrap();
        let s = Source::Ahead(a);
        // /tmp is on the machine's disk (ext4), which takes O_DIRECT: this run read
        // directly, and the unaligned end fell back without losing a byte.
        assert!(s.is_direct(), "expected direct I/O on {}", path.display());
        let got = read_all(s);
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_file_of_whole_aligned_blocks_ends_at_its_end() {
        // Its last direct read is a whole chunk, and the next one finds the end: no
        // fall-back, no byte lost or repeated.
        let (path, mut data) = lines_file("aligned", 10 * 8192 - 400);
        let pad = 10 * 8192 - data.len() - 1;
        data.extend(std::iter::repeat_n(b'y', pad));
        data.push(b'\n');
        assert_eq!(data.len(), 10 * 8192);
        std::fs::write(&path, &data).unwrap();
        let s = Source::Ahead(Ahead::start(&path, File::open(&path).unwrap(), 8192).unwrap());
        assert!(s.is_direct());
        assert!(read_all(s) == data, "bytes differ");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_reader_dropped_early_stops_the_thread() {
        let (path, _) = lines_file("early", 64 * 4096);
        let mut s = Source::Ahead(Ahead::start(&path, File::open(&path).unwrap(), 4096).unwrap());
        let first = s.fill_buf().unwrap().len();
        assert!(first > 0);
        // Drop joins the thread: it returns only if the thread saw the reader go.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(s);
            tx.send(()).unwrap();
        });
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("the read-ahead thread did not stop when its reader was dropped");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn small_files_are_read_plainly_and_equally() {
        let (path, data) = lines_file("plain", 100_000);
        assert!((data.len() as u64) < READ_AHEAD_FROM);
        let s = Source::open(&path).unwrap();
        assert!(matches!(s, Source::Plain(_)));
        assert!(read_all(s) == data);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
