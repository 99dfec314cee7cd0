//! Socket owners from a BPF `task_file` iterator: the kernel walks every
//! process's descriptor table and hands back one 32-byte record per socket
//! (pid, fd, inode, command name), instead of one `readlinkat()` per
//! descriptor through /proc. With 50,000 sockets that is the difference
//! between ~100 ms of /proc walking and a few milliseconds.
//!
//! No BPF toolchain is needed: the program is 32 instructions assembled
//! here, and the field offsets it reads (task_struct.pid/tgid/comm,
//! file.f_inode, inode.i_mode/i_ino) come from the running kernel's BTF
//! (/sys/kernel/btf/vmlinux), so it fits whatever kernel it runs on.
//! Needs root (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with
//! BTF; anything missing makes [`socket_files`] fail and the caller falls
//! back to the /proc scan.

// bpf(2) and the BTF mapping are the only unsafe code here: `bpf()`, its
// three callers and `BtfBytes` allow it.
#![deny(unsafe_code)]

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};

/// One socket descriptor of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketFile {
    /// Thread-group id (the process id).
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// Socket inode.
    pub inode: u64,
    /// Command name (task comm).
    pub name: String,
}

/// Why the iterator could not run (the caller then scans /proc instead).
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// /sys/kernel/btf/vmlinux could not be read (no BTF in this kernel).
    #[error("reading kernel BTF: {0}")]
    Btf(io::Error),
    /// The BTF did not parse.
    #[error("kernel BTF is malformed")]
    MalformedBtf,
    /// The kernel has no `bpf_iter_task_file`.
    #[error("kernel has no task_file iterator")]
    NoIterator,
    /// A struct member the program reads is missing.
    #[error("kernel BTF lacks a needed field")]
    MissingField,
    /// BPF_PROG_LOAD failed (the verifier's last word, when it said one).
    #[error("loading the task_file iterator: {error} {verifier}")]
    Load {
        /// The errno.
        error: io::Error,
        /// The last line of the verifier log.
        verifier: String,
    },
    /// BPF_LINK_CREATE failed.
    #[error("attaching the iterator: {0}")]
    Attach(io::Error),
    /// BPF_ITER_CREATE failed.
    #[error("opening the iterator: {0}")]
    Open(io::Error),
    /// Reading the records failed.
    #[error("reading the iterator: {0}")]
    Read(io::Error),
}

/// Every socket descriptor of every process in this pid namespace.
pub fn socket_files() -> Result<Vec<SocketFile>, Unavailable> {
    let btf = BtfBytes::open().map_err(Unavailable::Btf)?;
    let btf = Btf::parse(btf.bytes()).ok_or(Unavailable::MalformedBtf)?;
    // One pass over the kernel's ~100,000 types finds all four.
    let [attach, task, file, inode] = btf.find_all([
        (KIND_FUNC, b"bpf_iter_task_file".as_slice()),
        (KIND_STRUCT, b"task_struct"),
        (KIND_STRUCT, b"file"),
        (KIND_STRUCT, b"inode"),
    ]);
    let attach = attach.ok_or(Unavailable::NoIterator)?;
    let offsets = (|| {
        Some(Offsets {
            task_pid: btf.member_offset(task?, b"pid")?,
            task_tgid: btf.member_offset(task?, b"tgid")?,
            task_comm: btf.member_offset(task?, b"comm")?,
            file_inode: btf.member_offset(file?, b"f_inode")?,
            inode_mode: btf.member_offset(inode?, b"i_mode")?,
            inode_ino: btf.member_offset(inode?, b"i_ino")?,
        })
    })()
    .ok_or(Unavailable::MissingField)?;
    let program = assemble(&offsets);
    let prog = load(&program, attach)?;
    let link = link_create(&prog)?;
    let mut iter = iter_create(&link)?;
    let mut raw = Vec::new();
    iter.read_to_end(&mut raw).map_err(Unavailable::Read)?;
    Ok(raw.chunks_exact(RECORD).map(decode).collect())
}

/// Bytes per record: comm[16], tgid u32, fd u32, inode u64.
const RECORD: usize = 32;

fn decode(record: &[u8]) -> SocketFile {
    let u32_at = |at: usize| {
        u32::from_ne_bytes([record[at], record[at + 1], record[at + 2], record[at + 3]])
    };
    let mut inode = [0u8; 8];
    inode.copy_from_slice(&record[24..32]);
    let comm = &record[..16];
    let end = comm.iter().position(|&b| b == 0).unwrap_or(16);
    SocketFile {
        pid: u32_at(16),
        fd: u32_at(20),
        inode: u64::from_ne_bytes(inode),
        name: String::from_utf8_lossy(&comm[..end]).into_owned(),
    }
}

// ---- BTF: just enough to find a function and some struct members ----

const KIND_INT: u32 = 1;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
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

struct Btf<'a> {
    data: &'a [u8],
    strings: &'a [u8],
    /// types[id - 1]
    types: Vec<BtfType>,
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
    fn parse(raw: &'a [u8]) -> Option<Btf<'a>> {
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
    fn find_all<const N: usize>(&self, wanted: [(u32, &[u8]); N]) -> [Option<u32>; N] {
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
    fn member_offset(&self, strukt: u32, name: &[u8]) -> Option<u32> {
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

struct Offsets {
    task_pid: u32,
    task_tgid: u32,
    task_comm: u32,
    file_inode: u32,
    inode_mode: u32,
    inode_ino: u32,
}

// ---- The program ----

/// One eBPF instruction.
#[derive(Clone, Copy)]
#[repr(C)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

const MOV64_REG: u8 = 0xbf;
const MOV64_IMM: u8 = 0xb7;
const ADD64_IMM: u8 = 0x07;
const AND64_IMM: u8 = 0x57;
const LDX_DW: u8 = 0x79;
const LDX_W: u8 = 0x61;
const LDX_H: u8 = 0x69;
const STX_DW: u8 = 0x7b;
const STX_W: u8 = 0x63;
const JEQ_IMM: u8 = 0x15;
const JNE_IMM: u8 = 0x55;
const JNE_REG: u8 = 0x5d;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const HELPER_PROBE_READ_KERNEL: i32 = 113;
const HELPER_SEQ_WRITE: i32 = 127;
const S_IFMT: i32 = 0o170000;
const S_IFSOCK: i32 = 0o140000;
/// `struct bpf_iter__task_file`: meta, task, fd, file (each 8-byte slots).
const CTX_META: i16 = 0;
const CTX_TASK: i16 = 8;
const CTX_FD: i16 = 16;
const CTX_FILE: i16 = 24;

/// For each (task, fd, file): skip threads that are not the group leader
/// and files that are not sockets, then write comm, tgid, fd, inode.
fn assemble(o: &Offsets) -> Vec<Insn> {
    let off = |v: u32| v as i16;
    let mut p = vec![
        insn(MOV64_REG, 6, 1, 0, 0),              // r6 = ctx
        insn(LDX_DW, 7, 6, CTX_FILE, 0),          // r7 = ctx->file
        insn(JEQ_IMM, 7, 0, 0, 0),                // if !file goto out
        insn(LDX_DW, 8, 6, CTX_TASK, 0),          // r8 = ctx->task
        insn(JEQ_IMM, 8, 0, 0, 0),                // if !task goto out
        insn(LDX_W, 2, 8, off(o.task_pid), 0),    // r2 = task->pid
        insn(LDX_W, 9, 8, off(o.task_tgid), 0),   // r9 = task->tgid
        insn(JNE_REG, 2, 9, 0, 0),                // threads share the leader's table
        insn(LDX_DW, 7, 7, off(o.file_inode), 0), // r7 = file->f_inode
        insn(JEQ_IMM, 7, 0, 0, 0),                // if !inode goto out
        insn(LDX_H, 2, 7, off(o.inode_mode), 0),  // r2 = inode->i_mode
        insn(AND64_IMM, 2, 0, 0, S_IFMT),         //
        insn(JNE_IMM, 2, 0, 0, S_IFSOCK),         // not a socket: out
        insn(LDX_DW, 7, 7, off(o.inode_ino), 0),  // r7 = inode->i_ino
        insn(STX_DW, 10, 7, -8, 0),               // rec.inode
        insn(STX_W, 10, 9, -16, 0),               // rec.tgid
        insn(LDX_W, 2, 6, CTX_FD, 0),             // r2 = ctx->fd
        insn(STX_W, 10, 2, -12, 0),               // rec.fd
        insn(MOV64_REG, 1, 10, 0, 0),             // r1 = &rec.comm
        insn(ADD64_IMM, 1, 0, 0, -32),            //
        insn(MOV64_IMM, 2, 0, 0, 16),             // r2 = 16
        insn(MOV64_REG, 3, 8, 0, 0),              // r3 = &task->comm
        insn(ADD64_IMM, 3, 0, 0, o.task_comm as i32),
        insn(CALL, 0, 0, 0, HELPER_PROBE_READ_KERNEL),
        insn(LDX_DW, 1, 6, CTX_META, 0),         // r1 = ctx->meta
        insn(LDX_DW, 1, 1, 0, 0),                // r1 = meta->seq
        insn(MOV64_REG, 2, 10, 0, 0),            // r2 = &rec
        insn(ADD64_IMM, 2, 0, 0, -32),           //
        insn(MOV64_IMM, 3, 0, 0, RECORD as i32), // r3 = sizeof rec
        insn(CALL, 0, 0, 0, HELPER_SEQ_WRITE),
        insn(MOV64_IMM, 0, 0, 0, 0), // out: r0 = 0
        insn(EXIT, 0, 0, 0, 0),
    ];
    // Point every conditional jump at `out`.
    let out = p.len() - 2;
    for (i, ins) in p.iter_mut().enumerate() {
        if matches!(ins.code, JEQ_IMM | JNE_IMM | JNE_REG) {
            ins.off = (out - i - 1) as i16;
        }
    }
    p
}

// ---- bpf(2) ----

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_ITER_CREATE: libc::c_long = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
const ATTR_SIZE: usize = 128;

fn put32(attr: &mut [u8; ATTR_SIZE], at: usize, value: u32) {
    attr[at..at + 4].copy_from_slice(&value.to_ne_bytes());
}

fn put64(attr: &mut [u8; ATTR_SIZE], at: usize, value: u64) {
    attr[at..at + 8].copy_from_slice(&value.to_ne_bytes());
}

/// The kernel's BTF: mapped read-only where the kernel allows it (one
/// mmap instead of some 1,300 page-sized reads of the sysfs file, a few
/// milliseconds on `netdx port`'s critical path), read whole otherwise.
enum BtfBytes {
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
    fn open() -> io::Result<BtfBytes> {
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
    fn bytes(&self) -> &[u8] {
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

/// bpf(2): runs `cmd` with `attr` as its `union bpf_attr`, returning the
/// descriptor it creates.
///
/// # Safety
///
/// The kernel dereferences every address stored in `attr` as `cmd`
/// defines its fields: each must point at memory that stays valid (and,
/// for an output buffer such as the verifier log, writable for the length
/// stored next to it) until this returns, and every field `cmd` reads
/// that is not an address must not be taken for one (`attr` starts zeroed).
#[allow(unsafe_code)]
unsafe fn bpf(cmd: libc::c_long, attr: &mut [u8; ATTR_SIZE]) -> io::Result<OwnedFd> {
    // SAFETY: `attr` is ATTR_SIZE bytes, the size passed; the addresses in
    // it are valid for the call by this function's contract.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), ATTR_SIZE as u32) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success bpf(2) returns a new file descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[allow(unsafe_code)]
fn load(program: &[Insn], attach_btf_id: u32) -> Result<OwnedFd, Unavailable> {
    let license = b"GPL\0";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = [0u8; ATTR_SIZE];
    put32(&mut attr, 0, BPF_PROG_TYPE_TRACING);
    put32(&mut attr, 4, program.len() as u32);
    put64(&mut attr, 8, program.as_ptr() as u64);
    put64(&mut attr, 16, license.as_ptr() as u64);
    put32(&mut attr, 24, 1); // log_level
    put32(&mut attr, 28, log.len() as u32);
    put64(&mut attr, 32, log.as_mut_ptr() as u64);
    attr[48..54].copy_from_slice(b"netdx\0"); // prog_name
    put32(&mut attr, 68, BPF_TRACE_ITER); // expected_attach_type
    put32(&mut attr, 108, attach_btf_id);
    // SAFETY: the three addresses in `attr` are `program` (insn_cnt
    // instructions), `license` (NUL-terminated) and `log` (log_size
    // writable bytes), all borrowed or owned here until after the call.
    unsafe { bpf(BPF_PROG_LOAD, &mut attr) }.map_err(|error| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(0);
        let text = String::from_utf8_lossy(&log[..end]);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Unavailable::Load {
            error,
            verifier: last.to_string(),
        }
    })
}

#[allow(unsafe_code)]
fn link_create(prog: &OwnedFd) -> Result<OwnedFd, Unavailable> {
    use std::os::fd::AsRawFd;
    let mut attr = [0u8; ATTR_SIZE];
    put32(&mut attr, 0, prog.as_raw_fd() as u32);
    put32(&mut attr, 8, BPF_TRACE_ITER);
    // SAFETY: BPF_LINK_CREATE reads a descriptor and an attach type here;
    // `attr` holds no address.
    unsafe { bpf(BPF_LINK_CREATE, &mut attr) }.map_err(Unavailable::Attach)
}

#[allow(unsafe_code)]
fn iter_create(link: &OwnedFd) -> Result<File, Unavailable> {
    use std::os::fd::AsRawFd;
    let mut attr = [0u8; ATTR_SIZE];
    put32(&mut attr, 0, link.as_raw_fd() as u32);
    // SAFETY: BPF_ITER_CREATE reads a link descriptor; `attr` holds no address.
    unsafe { bpf(BPF_ITER_CREATE, &mut attr) }
        .map(File::from)
        .map_err(Unavailable::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_on_the_exit_block() {
        let o = Offsets {
            task_pid: 1,
            task_tgid: 2,
            task_comm: 3,
            file_inode: 4,
            inode_mode: 5,
            inode_ino: 6,
        };
        let p = assemble(&o);
        let out = p.len() - 2;
        for (i, ins) in p.iter().enumerate() {
            if matches!(ins.code, JEQ_IMM | JNE_IMM | JNE_REG) {
                assert_eq!(i as i64 + 1 + i64::from(ins.off), out as i64);
            }
        }
        assert_eq!(p[out].code, MOV64_IMM);
    }

    #[test]
    fn this_process_is_found_holding_its_own_socket() {
        if !nix::unistd::geteuid().is_root() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI=true but not root: the BPF iterator test must run"
            );
            eprintln!("skipping: the BPF iterator needs root");
            return;
        }
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd() as u32;
        let inode = std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .ok()
            .and_then(|l| super::super::owners::socket_inode(l.as_os_str().as_encoded_bytes()))
            .unwrap();
        let files = socket_files().expect("the task_file iterator runs as root");
        let me = std::process::id();
        assert!(
            files
                .iter()
                .any(|f| f.pid == me && f.fd == fd && f.inode == u64::from(inode)),
            "{} records, none for pid {me} fd {fd}",
            files.len()
        );
    }
}
