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
    name_off: u32,
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
    /// types[id - 1]
    types: Vec<BtfType>,
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
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
        let mut types = Vec::with_capacity(type_len / 16);
        let mut at = 0;
        while at + 12 <= data.len() {
            let name_off = le32(data, at)?;
            let info = le32(data, at + 4)?;
            let size_or_type = le32(data, at + 8)?;
            let vlen = (info & 0xffff) as usize;
            let extra = match (info >> 24) & 0x1f {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => vlen * 12,
                KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
                _ => 0,
            };
            let start = at + 12;
            types.push(BtfType {
                name_off,
                info,
                size_or_type,
                extra: start..start + extra,
            });
            at = start + extra;
        }
        Some(Btf {
            data,
            strings,
            types,
        })
    }

    fn name(&self, off: u32) -> &[u8] {
        let rest = self.strings.get(off as usize..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    fn get(&self, id: u32) -> Option<&BtfType> {
        self.types.get((id as usize).checked_sub(1)?)
    }

    /// The ids of the first type of each (kind, name), in one pass.
    pub(super) fn find_all<const N: usize>(&self, wanted: [(u32, &[u8]); N]) -> [Option<u32>; N] {
        let mut found = [None; N];
        for (index, t) in self.types.iter().enumerate() {
            for (slot, (kind, name)) in found.iter_mut().zip(&wanted) {
                if slot.is_none() && t.kind() == *kind && self.name(t.name_off) == *name {
                    *slot = Some(index as u32 + 1);
                }
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        found
    }

    /// Skips typedefs and qualifiers.
    fn resolve(&self, mut id: u32) -> Option<&BtfType> {
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
    pub(super) fn member_offset(&self, strukt: u32, name: &[u8]) -> Option<u32> {
        self.member_in(self.get(strukt)?, name, 0)
    }

    fn member_in(&self, t: &BtfType, name: &[u8], base: u32) -> Option<u32> {
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
                    && let Some(found) = self.member_in(inner, name, offset)
                {
                    return Some(found);
                }
            } else if self.name(member_name) == name {
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
