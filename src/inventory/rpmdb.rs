//! rpm's package database, read without librpm or SQLite's C library (this is one static
//! binary; docs/inventory.md says why): a read-only walk of the SQLite file that rpm 4.16
//! and later keep (`rpmdb.sqlite`, table `Packages (hnum INTEGER PRIMARY KEY, blob BLOB)`),
//! committed frames of its write-ahead log included, and a parser of the rpm header each
//! row holds (name, epoch, version, release, arch, file list).
//!
//! Everything read is untrusted (an image under `--root` may be crafted): every offset is
//! checked, the b-tree walk visits each page at most once, and a payload larger than
//! `MAX_PAYLOAD` is refused, so no input loops or allocates without bound.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// rpm refuses headers over 256 MB (HEADER_DATA_MAX); real ones are a few hundred KB.
const MAX_PAYLOAD: u64 = 64 << 20;

/// One installed package, and which of the wanted paths it owns.
#[derive(Debug, Clone, PartialEq)]
pub struct RpmPackage {
    pub name: String,
    /// `[epoch:]version-release`, as `rpm -q --qf '%{EVR}'` writes it.
    pub version: String,
    /// Empty for rpm's pseudo-packages (`gpg-pubkey`).
    pub arch: String,
    pub files: Vec<String>,
}

/// The packages of the rpm database at `db`, each with those of its files for which
/// `wanted` is true (a file list is only kept where asked: a host has ~200,000 files).
pub fn read(db: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<RpmPackage>, String> {
    let pager = Pager::open(db)?;
    let root = pager.table_root("Packages")?;
    let mut out = Vec::new();
    pager.walk_table(root, &mut |record| {
        // hnum is the rowid (stored as NULL); the blob is the header.
        match record.get(1) {
            Some(Value::Blob(blob)) => {
                out.push(header(blob, wanted)?);
                Ok(())
            }
            _ => Err("a Packages row without a header blob".into()),
        }
    })?;
    Ok(out)
}

// --- the rpm header ----------------------------------------------------------------------

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// A header as stored in the database: big-endian entry count and data size, the index
/// entries (tag, type, offset, count), then the data they point into.
fn header(blob: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<RpmPackage, String> {
    let (il, dl) = (be32(blob, 0)? as usize, be32(blob, 4)? as usize);
    let data_at = il.checked_mul(16).and_then(|n| n.checked_add(8)).ok_or("header: too many entries")?;
    let data = blob.get(data_at..data_at.saturating_add(dl)).ok_or("header: shorter than it says")?;
    let mut entries = HashMap::new();
    for i in 0..il {
        let e = 8 + i * 16;
        entries.insert(be32(blob, e)?, (be32(blob, e + 4)?, be32(blob, e + 8)? as usize, be32(blob, e + 12)? as usize));
    }
    let strings = |tag: u32| -> Result<Vec<String>, String> {
        let Some(&(kind, offset, count)) = entries.get(&tag) else { return Ok(Vec::new()) };
        if !matches!(kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(format!("header: tag {tag} is not a string"));
        }
        let count = if kind == TYPE_STRING { 1 } else { count };
        let mut out = Vec::with_capacity(count.min(data.len()));
        let mut at = offset;
        for _ in 0..count {
            let rest = data.get(at..).ok_or_else(|| format!("header: tag {tag} points past the data"))?;
            let len = rest.iter().position(|&b| b == 0).ok_or_else(|| format!("header: tag {tag} unterminated"))?;
            out.push(String::from_utf8_lossy(&rest[..len]).into_owned());
            at += len + 1;
        }
        Ok(out)
    };
    let int32s = |tag: u32| -> Result<Vec<u32>, String> {
        let Some(&(kind, offset, count)) = entries.get(&tag) else { return Ok(Vec::new()) };
        if kind != TYPE_INT32 {
            return Err(format!("header: tag {tag} is not an INT32"));
        }
        let end = count.checked_mul(4).and_then(|n| n.checked_add(offset)).filter(|&e| e <= data.len());
        end.ok_or_else(|| format!("header: tag {tag} points past the data"))?;
        (0..count).map(|i| be32(data, offset + i * 4)).collect()
    };
    let one = |tag: u32| -> Result<String, String> { Ok(strings(tag)?.into_iter().next().unwrap_or_default()) };

    let name = one(TAG_NAME)?;
    if name.is_empty() {
        return Err("header: no name".into());
    }
    let mut version = format!("{}-{}", one(TAG_VERSION)?, one(TAG_RELEASE)?);
    if let Some(epoch) = int32s(TAG_EPOCH)?.first() {
        version = format!("{epoch}:{version}");
    }
    let mut files = Vec::new();
    let (dirs, bases, index) = (strings(TAG_DIRNAMES)?, strings(TAG_BASENAMES)?, int32s(TAG_DIRINDEXES)?);
    for (base, dir) in bases.iter().zip(&index) {
        let dir = dirs.get(*dir as usize).ok_or("header: a file's directory index is out of range")?;
        let path = format!("{dir}{base}");
        if wanted(&path) {
            files.push(path);
        }
    }
    // Packages built before rpm 4.1 list whole names instead.
    files.extend(strings(TAG_OLDFILENAMES)?.into_iter().filter(|p| wanted(p)));
    Ok(RpmPackage { name, version, arch: one(TAG_ARCH)?, files })
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]])).ok_or_else(|| "truncated".into())
}

fn be16(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 2).map(|s| usize::from(u16::from_be_bytes([s[0], s[1]]))).ok_or_else(|| "truncated".into())
}

// --- SQLite ------------------------------------------------------------------------------

/// The pages of a SQLite database file, each page read from the write-ahead log when a
/// committed frame there holds a newer copy (rpm opens its database in WAL mode).
struct Pager {
    file: File,
    page_size: usize,
    /// The page size less the bytes each page reserves at its end.
    usable: usize,
    pages: u32,
    wal: Option<(File, WalFrames)>,
}

impl Pager {
    fn open(path: &Path) -> Result<Pager, String> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut head = [0u8; 100];
        file.read_exact_at(&mut head, 0).map_err(|e| format!("{}: {e}", path.display()))?;
        if &head[..16] != b"SQLite format 3\0" {
            return Err(format!("{}: not a SQLite 3 database", path.display()));
        }
        let page_size = match be16(&head, 16)? {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => n,
            n => return Err(format!("{}: page size {n}", path.display())),
        };
        let usable = page_size - usize::from(head[20]);
        if usable < 480 {
            return Err(format!("{}: {usable} usable bytes per page", path.display()));
        }
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let mut pages = u32::try_from(len / page_size as u64).unwrap_or(u32::MAX);
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = match File::open(&wal_path) {
            Ok(f) => read_wal(&f, page_size)?.map(|(frames, size)| {
                pages = size;
                (f, frames)
            }),
            Err(_) => None,
        };
        Ok(Pager { file, page_size, usable, pages, wal })
    }

    fn page(&self, n: u32) -> Result<Vec<u8>, String> {
        if n == 0 || n > self.pages {
            return Err(format!("page {n} is outside the database ({} pages)", self.pages));
        }
        let mut buf = vec![0u8; self.page_size];
        let read = match &self.wal {
            Some((wal, frames)) if frames.contains_key(&n) => wal.read_exact_at(&mut buf, frames[&n]),
            _ => self.file.read_exact_at(&mut buf, u64::from(n - 1) * self.page_size as u64),
        };
        read.map_err(|e| format!("page {n}: {e}"))?;
        Ok(buf)
    }

    /// The root page of a table, from the schema table on page 1.
    fn table_root(&self, table: &str) -> Result<u32, String> {
        let mut root = None;
        self.walk_table(1, &mut |row| {
            if let (Some(Value::Text(b"table")), Some(Value::Text(name)), Some(Value::Int(page))) =
                (row.first(), row.get(1), row.get(3))
            {
                if *name == table.as_bytes() {
                    root = u32::try_from(*page).ok();
                }
            }
            Ok(())
        })?;
        root.ok_or_else(|| format!("no table {table}"))
    }

    /// Calls `row` with each record of the table b-tree rooted at `root`, in rowid order.
    fn walk_table(&self, root: u32, row: &mut dyn FnMut(&[Value]) -> Result<(), String>) -> Result<(), String> {
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                return Err(format!("page {n} is reached twice: the b-tree is corrupt"));
            }
            let page = self.page(n)?;
            let at = if n == 1 { 100 } else { 0 };
            let cells = be16(&page, at + 3)?;
            match page[at] {
                13 => {
                    for i in 0..cells {
                        let cell = be16(&page, at + 8 + i * 2)?;
                        let payload = self.leaf_payload(&page, cell, &mut seen)?;
                        row(&record(&payload)?)?;
                    }
                }
                5 => {
                    // Children are pushed right to left, so that they pop in rowid order.
                    stack.push(be32(&page, at + 8)?);
                    for i in (0..cells).rev() {
                        let cell = be16(&page, at + 12 + i * 2)?;
                        stack.push(be32(&page, cell)?);
                    }
                }
                kind => return Err(format!("page {n}: b-tree page type {kind} in a table")),
            }
        }
        Ok(())
    }

    /// The payload of a table leaf cell, followed through its overflow pages.
    fn leaf_payload(&self, page: &[u8], cell: usize, seen: &mut HashSet<u32>) -> Result<Vec<u8>, String> {
        let (size, n) = varint(page.get(cell..).ok_or("cell outside its page")?)?;
        let (_rowid, m) = varint(page.get(cell + n..).ok_or("cell outside its page")?)?;
        if size > MAX_PAYLOAD {
            return Err(format!("a row of {size} bytes"));
        }
        let size = size as usize;
        let start = cell + n + m;
        // SQLite's file format, "Cell Payload Overflow Pages".
        let u = self.usable;
        let (max_local, min_local) = (u - 35, (u - 12) * 32 / 255 - 23);
        let local = if size <= max_local {
            size
        } else {
            let k = min_local + (size - min_local) % (u - 4);
            if k <= max_local {
                k
            } else {
                min_local
            }
        };
        let mut out = page.get(start..start + local).ok_or("cell outside its page")?.to_vec();
        let mut next = if local < size { be32(page, start + local)? } else { 0 };
        while out.len() < size {
            if next == 0 || !seen.insert(next) {
                return Err("an overflow chain ends early or loops".into());
            }
            let over = self.page(next)?;
            next = be32(&over, 0)?;
            let take = (size - out.len()).min(u - 4);
            out.extend_from_slice(&over[4..4 + take]);
        }
        Ok(out)
    }
}

/// For each page, the offset in the write-ahead log of its newest committed copy.
type WalFrames = HashMap<u32, u64>;

/// The committed frames of a write-ahead log, and the database's size in pages after the
/// last commit. `None` when the log holds no committed frame (or belongs to an older
/// checkpoint).
fn read_wal(wal: &File, page_size: usize) -> Result<Option<(WalFrames, u32)>, String> {
    let mut head = [0u8; 32];
    if wal.read_exact_at(&mut head, 0).is_err() {
        return Ok(None);
    }
    let magic = be32(&head, 0)?;
    if magic & !1 != 0x377f_0682 || be32(&head, 8)? as usize != page_size {
        return Ok(None);
    }
    let big_endian = magic & 1 == 1;
    let salts = &head[16..24];
    let mut sum = checksum(&head[..24], (0, 0), big_endian);
    if sum != (be32(&head, 24)?, be32(&head, 28)?) {
        return Ok(None);
    }
    let (mut frames, mut pending) = (HashMap::new(), HashMap::new());
    let mut size = None;
    let mut frame = vec![0u8; 24 + page_size];
    let mut at = 32u64;
    while wal.read_exact_at(&mut frame, at).is_ok() {
        // A frame is valid when it carries this log's salts and the running checksum.
        if &frame[8..16] != salts {
            break;
        }
        sum = checksum(&frame[24..], checksum(&frame[..8], sum, big_endian), big_endian);
        if sum != (be32(&frame, 16)?, be32(&frame, 20)?) {
            break;
        }
        pending.insert(be32(&frame, 0)?, at + 24);
        let commit_size = be32(&frame, 4)?;
        if commit_size != 0 {
            frames.extend(pending.drain());
            size = Some(commit_size);
        }
        at += frame.len() as u64;
    }
    Ok(size.map(|s| (frames, s)))
}

/// SQLite's WAL checksum: 32-bit words in the log's byte order, summed in pairs.
fn checksum(bytes: &[u8], (mut s0, mut s1): (u32, u32), big_endian: bool) -> (u32, u32) {
    let word = |c: &[u8]| {
        let w = [c[0], c[1], c[2], c[3]];
        if big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    };
    for pair in bytes.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// A column of a record.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
    Other,
}

/// SQLite's record format: a header of serial types, then the values they describe.
fn record(payload: &[u8]) -> Result<Vec<Value<'_>>, String> {
    let (header_len, mut at) = varint(payload)?;
    let header_len = usize::try_from(header_len).map_err(|_| "record header too long")?;
    let mut body = header_len;
    let mut out = Vec::new();
    while at < header_len {
        let (serial, n) = varint(payload.get(at..header_len).ok_or("record header outside the record")?)?;
        at += n;
        let len = match serial {
            0 | 8 | 9 => 0,
            1..=4 => serial as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err("reserved serial type".into()),
            s => usize::try_from((s - 12) / 2).map_err(|_| "value too long")?,
        };
        let bytes = payload.get(body..body.saturating_add(len)).ok_or("value outside the record")?;
        body += len;
        out.push(match serial {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => {
                let mut v = if bytes[0] & 0x80 != 0 { -1i64 } else { 0 };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                Value::Int(v)
            }
            7 => Value::Other,
            s if s % 2 == 0 => Value::Blob(bytes),
            _ => Value::Text(bytes),
        });
    }
    Ok(out)
}

/// SQLite's variable-length integer: up to nine bytes, big-endian, seven bits each but
/// the ninth (which gives all eight). Returns the value and its length.
fn varint(b: &[u8]) -> Result<(u64, usize), String> {
    let mut v = 0u64;
    for i in 0..8 {
        let byte = *b.get(i).ok_or("truncated varint")?;
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    let ninth = *b.get(8).ok_or("truncated varint")?;
    Ok(((v << 8) | u64::from(ninth), 9))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with the given (tag, type, count, data) entries, laid out as rpm does.
    fn build_header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, count, bytes) in entries {
            if *kind == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            for v in [*tag, *kind, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn strs(list: &[&str]) -> Vec<u8> {
        list.iter().flat_map(|s| s.bytes().chain([0])).collect()
    }

    #[test]
    fn header_fields_and_wanted_files() {
        let blob = build_header(&[
            (TAG_NAME, TYPE_STRING, 1, strs(&["sudo"])),
            (TAG_VERSION, TYPE_STRING, 1, strs(&["1.9.5p2"])),
            (TAG_RELEASE, TYPE_STRING, 1, strs(&["10.oe2203"])),
            (TAG_EPOCH, TYPE_INT32, 1, 2u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, 1, strs(&["x86_64"])),
            (TAG_DIRINDEXES, TYPE_INT32, 3, [0u32, 1, 1].iter().flat_map(|v| v.to_be_bytes()).collect()),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, 3, strs(&["sudo", "visudo", "sudoreplay"])),
            (TAG_DIRNAMES, TYPE_STRING_ARRAY, 2, strs(&["/usr/bin/", "/usr/sbin/"])),
        ]);
        let p = header(&blob, &|f| f != "/usr/sbin/sudoreplay").unwrap();
        assert_eq!(
            p,
            RpmPackage {
                name: "sudo".into(),
                version: "2:1.9.5p2-10.oe2203".into(),
                arch: "x86_64".into(),
                files: vec!["/usr/bin/sudo".into(), "/usr/sbin/visudo".into()],
            }
        );
    }

    #[test]
    fn crafted_headers_are_errors_not_panics() {
        let good = build_header(&[
            (TAG_NAME, TYPE_STRING, 1, strs(&["x"])),
            (TAG_DIRINDEXES, TYPE_INT32, 1, 7u32.to_be_bytes().to_vec()),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, 1, strs(&["f"])),
            (TAG_DIRNAMES, TYPE_STRING_ARRAY, 1, strs(&["/"])),
        ]);
        assert!(header(&good, &|_| true).unwrap_err().contains("directory index"));
        // Every truncation and every single-byte change is an Ok or an Err, never a panic.
        for len in 0..good.len() {
            let _ = header(&good[..len], &|_| true);
        }
        for at in 0..good.len() {
            for byte in [0x00, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[at] = byte;
                let _ = header(&bad, &|_| true);
            }
        }
        assert!(header(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], &|_| true).is_err());
    }

    #[test]
    fn varints_and_records() {
        assert_eq!(varint(&[0x05]).unwrap(), (5, 1));
        assert_eq!(varint(&[0x81, 0x00]).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9]).unwrap(), (u64::MAX, 9));
        assert!(varint(&[0x81]).is_err());
        // header: length 4, NULL, 1-byte int, 3-byte text; then -1 and "abc"
        let rec = [4u8, 0, 1, 19, 0xff, b'a', b'b', b'c'];
        assert_eq!(record(&rec).unwrap(), vec![Value::Null, Value::Int(-1), Value::Text(b"abc")]);
        assert!(record(&[4, 0, 1, 21, 0xff, b'a']).is_err());
    }

    #[test]
    fn wal_checksum_matches_sqlite() {
        // SQLite's algorithm on two words pairs: s0 += w0 + s1; s1 += w1 + s0.
        let bytes: Vec<u8> = [1u32, 2, 3, 4].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(checksum(&bytes, (0, 0), true), (7, 14));
    }
}
