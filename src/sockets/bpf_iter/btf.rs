//! The running kernel's BTF (/sys/kernel/btf/vmlinux): just enough of it
//! to find a function and the offsets of some struct members.

// Mapping the file is the only unsafe code here: `BtfBytes` allows it.
#![deny(unsafe_code)]

use std::io;

const KIND_INT: u32 = 1;
const KIND_ARRAY: u32 = 3;
pub(super) const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
pub(super) const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;
const BTF_MAGIC: u16 = 0xeb9f;

struct BtfType {
    info: u32,
    size_or_type: u32,
    /// Byte range of the kind-specific data after the 12-byte header.
    extra: std::ops::Range<usize>,
}

impl BtfType {
    fn kind(&self) -> u32 {
        (self.info >> 24) & 0x1f
    }
    fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    fn kind_flag(&self) -> bool {
        self.info >> 31 == 1
    }
}

pub(super) struct Btf<'a> {
    data: &'a [u8],
    strings: &'a [u8],
    /// Where each type walked so far starts in `data`: `starts[id - 1]`.
    /// Types are walked only as far as a lookup needs (the kernel has
    /// ~130,000; the ones netdx wants are in its first half), and only
    /// their offsets are kept.
    starts: Vec<u32>,
    /// Where the first type not walked yet starts.
    next: usize,
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Bytes of kind-specific data after a type's 12-byte header.
fn extra_len(info: u32) -> usize {
    let vlen = (info & 0xffff) as usize;
    match (info >> 24) & 0x1f {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
        KIND_ARRAY => 12,
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => vlen * 12,
        KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
        _ => 0,
    }
}

impl<'a> Btf<'a> {
    /// Checks the header and finds the type and string sections.
    pub(super) fn parse(raw: &'a [u8]) -> Option<Btf<'a>> {
        if u16::from_le_bytes(raw.get(0..2)?.try_into().ok()?) != BTF_MAGIC {
            return None;
        }
        let hdr_len = le32(raw, 4)? as usize;
        let type_off = le32(raw, 8)? as usize;
        let type_len = le32(raw, 12)? as usize;
        let str_off = le32(raw, 16)? as usize;
        let str_len = le32(raw, 20)? as usize;
        let data = raw.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let strings = raw.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        Some(Btf {
            data,
            strings,
            starts: Vec::with_capacity(type_len / 24),
            next: 0,
        })
    }

    /// Walks one more type; false at the end of the section.
    fn walk(&mut self) -> bool {
        let at = self.next;
        let (Some(info), Ok(start)) = (le32(self.data, at + 4), u32::try_from(at)) else {
            return false;
        };
        self.starts.push(start);
        self.next = at + 12 + extra_len(info);
        true
    }

    /// Whether the string at `off` is `name`.
    fn named(&self, off: u32, name: &[u8]) -> bool {
        let off = off as usize;
        self.strings.get(off..off + name.len()) == Some(name)
            && self.strings.get(off + name.len()) == Some(&0)
    }

    fn get(&mut self, id: u32) -> Option<BtfType> {
        let index = (id as usize).checked_sub(1)?;
        while self.starts.len() <= index {
            if !self.walk() {
                return None;
            }
        }
        let at = self.starts[index] as usize;
        let info = le32(self.data, at + 4)?;
        let start = at + 12;
        Some(BtfType {
            info,
            size_or_type: le32(self.data, at + 8)?,
            extra: start..start + extra_len(info),
        })
    }

    /// The ids of the first type of each (kind, name), in one pass that
    /// stops once all are found.
    pub(super) fn find_all<const N: usize>(
        &mut self,
        wanted: [(u32, &[u8]); N],
    ) -> [Option<u32>; N] {
        let mut found = [None; N];
        let mut index = 0;
        while found.iter().any(Option::is_none) {
            if index == self.starts.len() && !self.walk() {
                break;
            }
            let at = self.starts[index] as usize;
            index += 1;
            let (Some(name_off), Some(info)) = (le32(self.data, at), le32(self.data, at + 4))
            else {
                break;
            };
            let kind = (info >> 24) & 0x1f;
            for (slot, (wanted_kind, name)) in found.iter_mut().zip(&wanted) {
                if slot.is_none() && kind == *wanted_kind && self.named(name_off, name) {
                    *slot = Some(index as u32);
                }
            }
        }
        found
    }

    /// Skips typedefs and qualifiers.
    fn resolve(&mut self, mut id: u32) -> Option<BtfType> {
        for _ in 0..32 {
            let t = self.get(id)?;
            match t.kind() {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type;
                }
                _ => return Some(t),
            }
        }
        None
    }

    /// Byte offset of member `name` in the struct with id `strukt`, looking
    /// inside anonymous structs and unions.
    pub(super) fn member_offset(&mut self, strukt: u32, name: &[u8]) -> Option<u32> {
        let strukt = self.get(strukt)?;
        self.member_in(&strukt, name, 0)
    }

    fn member_in(&mut self, t: &BtfType, name: &[u8], base: u32) -> Option<u32> {
        if t.kind() != KIND_STRUCT && t.kind() != KIND_UNION {
            return None;
        }
        for i in 0..t.vlen() {
            let at = t.extra.start + i * 12;
            let member_name = le32(self.data, at)?;
            let member_type = le32(self.data, at + 4)?;
            let raw_offset = le32(self.data, at + 8)?;
            let bits = if t.kind_flag() {
                raw_offset & 0x00ff_ffff
            } else {
                raw_offset
            };
            let offset = base + bits / 8;
            if member_name == 0 {
                if let Some(inner) = self.resolve(member_type)
                    && let Some(found) = self.member_in(&inner, name, offset)
                {
                    return Some(found);
                }
            } else if self.named(member_name, name) {
                return Some(offset);
            }
        }
        None
    }
}

/// The kernel's BTF: mapped read-only where the kernel allows it (one
/// mmap instead of some 1,300 page-sized reads of the sysfs file, a few
/// milliseconds on `netdx port`'s critical path), read whole otherwise.
pub(super) enum BtfBytes {
    /// A private read-only mapping of the whole file.
    Mapped {
        /// Start of the mapping.
        start: std::ptr::NonNull<u8>,
        /// Its length.
        len: usize,
    },
    /// The file read into memory.
    Read(Vec<u8>),
}

const BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

impl BtfBytes {
    #[allow(unsafe_code)]
    pub(super) fn open() -> io::Result<BtfBytes> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(BTF_PATH)?;
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
        if len > 0 {
            // SAFETY: a fresh private read-only mapping of `len` bytes of a
            // file we opened; the kernel picks the address. The pointer is
            // checked below and unmapped exactly once, in Drop.
            let start = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if start != libc::MAP_FAILED
                && let Some(start) = std::ptr::NonNull::new(start.cast::<u8>())
            {
                return Ok(BtfBytes::Mapped { start, len });
            }
        }
        // Older kernels refuse to map this file: read it instead.
        std::fs::read(BTF_PATH).map(BtfBytes::Read)
    }

    #[allow(unsafe_code)]
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: the mapping is `len` readable bytes and lives as long
            // as `self`; nothing writes to a private read-only mapping.
            BtfBytes::Mapped { start, len } => unsafe {
                std::slice::from_raw_parts(start.as_ptr(), *len)
            },
            BtfBytes::Read(bytes) => bytes,
        }
    }
}

impl Drop for BtfBytes {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if let BtfBytes::Mapped { start, len } = self {
            // SAFETY: unmaps the mapping made in `open`, once; no slice of
            // it outlives `self` (`bytes` borrows `self`).
            unsafe {
                libc::munmap(start.as_ptr().cast(), *len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob built by hand: types as (name, info, size_or_type, extra
    /// words), strings collected along the way.
    struct Blob {
        types: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Blob {
        fn new() -> Self {
            Blob {
                types: Vec::new(),
                strings: vec![0],
            }
        }

        fn string(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            off
        }

        fn add(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32, extra: &[u32]) {
            let name = self.string(name);
            for word in [name, (kind << 24) | vlen, size_or_type]
                .iter()
                .chain(extra)
            {
                self.types.extend_from_slice(&word.to_le_bytes());
            }
        }

        /// A struct or union's members: (name, type id, byte offset).
        fn members(&mut self, members: &[(&str, u32, u32)]) -> Vec<u32> {
            members
                .iter()
                .flat_map(|&(name, id, offset)| [self.string(name), id, offset * 8])
                .collect()
        }

        fn bytes(&self) -> Vec<u8> {
            let mut raw = Vec::new();
            raw.extend_from_slice(&BTF_MAGIC.to_le_bytes());
            raw.extend_from_slice(&[1, 0]); // version, flags
            for word in [
                24,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ] {
                raw.extend_from_slice(&u32::to_le_bytes(word));
            }
            raw.extend_from_slice(&self.types);
            raw.extend_from_slice(&self.strings);
            raw
        }
    }

    #[test]
    fn members_are_found_through_anonymous_unions_and_typedefs() {
        let mut b = Blob::new();
        b.add("int", KIND_INT, 0, 4, &[32]); // 1
        b.add("u16", KIND_TYPEDEF, 0, 1, &[]); // 2 -> int
        let inner = b.members(&[("skc_dport", 2, 0), ("skc_num", 2, 2)]);
        b.add("", KIND_STRUCT, 2, 4, &inner); // 3: the anonymous struct
        let union = b.members(&[("skc_portpair", 1, 0), ("", 3, 0)]);
        b.add("", KIND_UNION, 2, 4, &union); // 4
        b.add("", KIND_CONST, 0, 4, &[]); // 5: const of the union
        let outer = b.members(&[("skc_hash", 1, 0), ("", 5, 8), ("skc_family", 2, 16)]);
        b.add("sock_common", KIND_STRUCT, 3, 24, &outer); // 6
        b.add("bpf_iter_task_file", KIND_FUNC, 0, 0, &[]); // 7
        // A struct whose name starts like another's must not match it.
        b.add("sock_commonx", KIND_STRUCT, 0, 0, &[]); // 8
        let raw = b.bytes();
        let mut btf = Btf::parse(&raw).unwrap();
        let [common, func, missing] = btf.find_all([
            (KIND_STRUCT, b"sock_common".as_slice()),
            (KIND_FUNC, b"bpf_iter_task_file"),
            (KIND_STRUCT, b"sock"),
        ]);
        assert_eq!((common, func, missing), (Some(6), Some(7), None));
        let mut offset = |name: &[u8]| btf.member_offset(6, name);
        assert_eq!(offset(b"skc_family"), Some(16));
        assert_eq!(offset(b"skc_dport"), Some(8));
        assert_eq!(offset(b"skc_num"), Some(10));
        assert_eq!(offset(b"skc_portpair"), Some(8));
        assert_eq!(offset(b"skc"), None);
    }

    #[test]
    fn a_member_whose_type_comes_later_is_found_past_where_the_search_stopped() {
        let mut b = Blob::new();
        b.add("int", KIND_INT, 0, 4, &[32]); // 1
        let outer = b.members(&[("first", 1, 0), ("", 3, 4)]);
        b.add("early", KIND_STRUCT, 2, 12, &outer); // 2: refers to 3, walked after it
        let inner = b.members(&[("late", 1, 4)]);
        b.add("", KIND_UNION, 1, 8, &inner); // 3
        let raw = b.bytes();
        let mut btf = Btf::parse(&raw).unwrap();
        assert_eq!(
            btf.find_all([(KIND_STRUCT, b"early".as_slice())]),
            [Some(2)]
        );
        assert_eq!(btf.starts.len(), 2, "the search stopped at what it wanted");
        assert_eq!(btf.member_offset(2, b"late"), Some(8));
        assert_eq!(btf.member_offset(2, b"first"), Some(0));
    }

    #[test]
    fn truncated_or_foreign_blobs_parse_or_fail_without_panicking() {
        let mut b = Blob::new();
        b.add("int", KIND_INT, 0, 4, &[32]);
        let members = b.members(&[("a", 1, 0), ("b", 1, 4)]);
        b.add("pair", KIND_STRUCT, 2, 8, &members);
        let raw = b.bytes();
        assert!(Btf::parse(&raw).is_some());
        for len in 0..raw.len() {
            if let Some(mut btf) = Btf::parse(&raw[..len]) {
                let [pair] = btf.find_all([(KIND_STRUCT, b"pair".as_slice())]);
                let _ = pair.and_then(|id| btf.member_offset(id, b"b"));
            }
        }
        let mut foreign = raw.clone();
        foreign[0] ^= 0xff;
        assert!(Btf::parse(&foreign).is_none());
    }
}
