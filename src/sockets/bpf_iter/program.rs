//! The task_file iterator program, assembled here for the running kernel's
//! struct layouts.
//!
//! It writes a record for every socket. Comparing each socket's ports in
//! the program, so that `netdx port` would get only the sockets on its
//! ports, was measured and is slower: the ports live in `struct sock`,
//! one more cache miss for each of the 50,000 sockets in bench/port.sh's
//! scenario (+5–7 ms of kernel time), which costs more than handing over
//! and indexing the 37,500 records it saves.
#![forbid(unsafe_code)]

use super::RECORD;

/// Where the fields the program reads sit in the running kernel's structs.
pub(super) struct Offsets {
    pub(super) task_pid: u32,
    pub(super) task_tgid: u32,
    pub(super) task_comm: u32,
    pub(super) file_inode: u32,
    pub(super) inode_mode: u32,
    pub(super) inode_ino: u32,
}

/// One eBPF instruction.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(super) struct Insn {
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
pub(super) fn assemble(o: &Offsets) -> Vec<Insn> {
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

#[cfg(test)]
mod tests {
    //! The program run by a small model of the kernel's BPF interpreter
    //! over made-up kernel objects: what it writes for each kind of
    //! descriptor, checked without root or a kernel.
    use super::*;

    const OFFSETS: Offsets = Offsets {
        task_pid: 8,
        task_tgid: 12,
        task_comm: 16,
        file_inode: 8,
        inode_mode: 0,
        inode_ino: 16,
    };
    // Where the made-up objects live in the model's memory.
    const CTX: u64 = 0x1000;
    const META: u64 = 0x1100;
    const SEQ: u64 = 0x1200;
    const TASK: u64 = 0x2000;
    const FILE: u64 = 0x3000;
    const INODE: u64 = 0x4000;
    const STACK_TOP: u64 = 0x8000;

    /// One descriptor as the iterator shows it to the program.
    #[derive(Clone, Copy)]
    struct Descriptor {
        /// The task is its process's main thread.
        leader: bool,
        /// The file is a socket.
        socket: bool,
        /// ctx->file is NULL (the iterator's end-of-task call).
        no_file: bool,
    }

    const SOCKET: Descriptor = Descriptor {
        leader: true,
        socket: true,
        no_file: false,
    };

    struct Machine {
        memory: Vec<u8>,
        written: Vec<u8>,
    }

    impl Machine {
        fn new(d: Descriptor) -> Self {
            let mut m = Machine {
                memory: vec![0; STACK_TOP as usize],
                written: Vec::new(),
            };
            m.store(CTX + CTX_META as u64, 8, META);
            m.store(META, 8, SEQ);
            m.store(CTX + CTX_TASK as u64, 8, TASK);
            m.store(CTX + CTX_FD as u64, 4, 7);
            m.store(CTX + CTX_FILE as u64, 8, if d.no_file { 0 } else { FILE });
            m.store(TASK + u64::from(OFFSETS.task_pid), 4, 4242);
            let tgid = if d.leader { 4242 } else { 4000 };
            m.store(TASK + u64::from(OFFSETS.task_tgid), 4, tgid);
            let comm = (TASK + u64::from(OFFSETS.task_comm)) as usize;
            m.memory[comm..comm + 6].copy_from_slice(b"server");
            m.store(FILE + u64::from(OFFSETS.file_inode), 8, INODE);
            let mode = if d.socket { S_IFSOCK } else { 0o100000 } as u64;
            m.store(INODE + u64::from(OFFSETS.inode_mode), 2, mode | 0o777);
            m.store(INODE + u64::from(OFFSETS.inode_ino), 8, 987_654);
            m
        }

        /// The bytes at `address`; anything below 0x1000 is a NULL the program failed to check.
        fn at(&self, address: u64, len: usize) -> std::ops::Range<usize> {
            let start = usize::try_from(address).unwrap();
            assert!(
                start >= 0x1000 && start + len <= self.memory.len(),
                "access to {address:#x}: a pointer the program did not check"
            );
            start..start + len
        }

        fn load(&self, address: u64, len: usize) -> u64 {
            let mut bytes = [0u8; 8];
            bytes[..len].copy_from_slice(&self.memory[self.at(address, len)]);
            u64::from_le_bytes(bytes)
        }

        fn store(&mut self, address: u64, len: usize, value: u64) {
            let range = self.at(address, len);
            self.memory[range].copy_from_slice(&value.to_le_bytes()[..len]);
        }

        /// Runs `program` once with r1 = ctx, as the iterator does per descriptor.
        fn run(&mut self, program: &[Insn]) {
            let mut r = [0u64; 11];
            r[1] = CTX;
            r[10] = STACK_TOP;
            let mut pc = 0usize;
            while let Some(&ins) = program.get(pc) {
                let (dst, src) = (usize::from(ins.regs & 0x0f), usize::from(ins.regs >> 4));
                let imm = i64::from(ins.imm) as u64;
                let address = |base: u64| base.wrapping_add(i64::from(ins.off) as u64);
                let jump = usize::try_from(pc as i64 + 1 + i64::from(ins.off)).unwrap();
                let mut next = pc + 1;
                match ins.code {
                    MOV64_REG => r[dst] = r[src],
                    MOV64_IMM => r[dst] = imm,
                    ADD64_IMM => r[dst] = r[dst].wrapping_add(imm),
                    AND64_IMM => r[dst] &= imm,
                    LDX_DW => r[dst] = self.load(address(r[src]), 8),
                    LDX_W => r[dst] = self.load(address(r[src]), 4),
                    LDX_H => r[dst] = self.load(address(r[src]), 2),
                    STX_DW => self.store(address(r[dst]), 8, r[src]),
                    STX_W => self.store(address(r[dst]), 4, r[src]),
                    JEQ_IMM if r[dst] == imm => next = jump,
                    JNE_IMM if r[dst] != imm => next = jump,
                    JNE_REG if r[dst] != r[src] => next = jump,
                    JEQ_IMM | JNE_IMM | JNE_REG => {}
                    CALL => {
                        r[0] = match ins.imm {
                            HELPER_PROBE_READ_KERNEL => {
                                let len = r[2] as usize;
                                let from = self.at(r[3], len);
                                let to = self.at(r[1], len).start;
                                self.memory.copy_within(from, to);
                                0
                            }
                            HELPER_SEQ_WRITE => {
                                assert_eq!(r[1], SEQ);
                                let record = self.at(r[2], r[3] as usize);
                                self.written.extend_from_slice(&self.memory[record]);
                                0
                            }
                            other => panic!("helper {other}"),
                        };
                        // Helpers clobber r1-r5: reading them afterwards reads garbage.
                        r[1..=5].fill(0xdead_beef_dead_beef);
                    }
                    EXIT => return,
                    code => panic!("opcode {code:#x} at {pc}"),
                }
                assert!(next > pc, "the verifier refuses a jump backwards (at {pc})");
                pc = next;
            }
            panic!("the program runs off its end");
        }
    }

    /// What the program writes for one descriptor.
    fn written(d: Descriptor) -> Vec<u8> {
        let mut machine = Machine::new(d);
        machine.run(&assemble(&OFFSETS));
        machine.written
    }

    #[test]
    fn a_socket_is_written_as_comm_tgid_fd_and_inode() {
        let record = written(SOCKET);
        assert_eq!(record.len(), RECORD);
        assert_eq!(&record[..16], b"server\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(record[16..20], 4242u32.to_le_bytes());
        assert_eq!(record[20..24], 7u32.to_le_bytes());
        assert_eq!(record[24..32], 987_654u64.to_le_bytes());
    }

    #[test]
    fn other_files_threads_and_the_end_of_a_task_write_nothing() {
        let file = Descriptor {
            socket: false,
            ..SOCKET
        };
        let thread = Descriptor {
            leader: false,
            ..SOCKET
        };
        let end = Descriptor {
            no_file: true,
            ..SOCKET
        };
        for d in [file, thread, end] {
            assert!(written(d).is_empty());
        }
    }

    #[test]
    fn every_jump_lands_on_the_exit_block() {
        let p = assemble(&OFFSETS);
        let out = p.len() - 2;
        for (i, ins) in p.iter().enumerate() {
            if matches!(ins.code, JEQ_IMM | JNE_IMM | JNE_REG) {
                assert_eq!(i as i64 + 1 + i64::from(ins.off), out as i64);
            }
        }
        assert_eq!(p[out].code, MOV64_IMM);
    }
}
