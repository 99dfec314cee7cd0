//! The task_file iterator program, assembled here for the running kernel's
//! struct layouts.
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
#[derive(Clone, Copy)]
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
}
