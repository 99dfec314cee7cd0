//! Port and address conditions, checked here and compiled to the kernel's
//! inet_diag bytecode so the kernel only returns matching sockets.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::str::FromStr;

use super::{Endpoint, Socket};

/// An inclusive port range (`8080`, `8000-8100`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub lo: u16,
    /// Last port.
    pub hi: u16,
}

impl PortRange {
    /// A single port.
    pub fn one(port: u16) -> Self {
        PortRange { lo: port, hi: port }
    }

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.lo <= port && port <= self.hi
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(0) => Err("port 0 is not a port you can ask about: ports are 1 to 65535".into()),
        Ok(n) if n <= 65_535 => Ok(n as u16),
        Ok(n) => Err(format!("port {n} is out of range: ports are 1 to 65535")),
        Err(_) if text.starts_with('-') => {
            Err(format!("port {text} is out of range: ports are 1 to 65535"))
        }
        Err(_) => Err(format!("'{text}' is not a port number")),
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('-') {
            Some((lo, hi)) if !lo.is_empty() => {
                let (lo, hi) = (parse_port(lo)?, parse_port(hi)?);
                if lo > hi {
                    return Err(format!("'{text}': the range is reversed (write {hi}-{lo})"));
                }
                Ok(PortRange { lo, hi })
            }
            _ => parse_port(text).map(PortRange::one),
        }
    }
}

/// An address with an optional prefix length (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The address (host bits may be set; only `len` bits count).
    pub address: IpAddr,
    /// Significant bits.
    pub len: u8,
}

impl FromStr for Prefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, len) = match text.split_once('/') {
            Some((address, len)) => (address, Some(len)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("'{text}' is not an address (ADDR or ADDR/PREFIX)"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(len) => len
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Prefix { address, len })
    }
}

impl Prefix {
    /// Whether `address` is inside the prefix; an IPv4 prefix also matches
    /// IPv4-mapped IPv6 addresses, as the kernel's bytecode does.
    pub fn contains(&self, address: &IpAddr) -> bool {
        let address = match (self.address, address) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(*address, IpAddr::V4),
            _ => *address,
        };
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Port and address conditions; all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The local port must be in one of these (`--sport`, `port --local`).
    pub local_ports: Vec<PortRange>,
    /// The remote port must be in one of these (`--dport`).
    pub remote_ports: Vec<PortRange>,
    /// Either port must be in one of these (`--port`, `netdx port`).
    pub any_ports: Vec<PortRange>,
    /// Either address must be in this prefix (`--addr`).
    pub address: Option<Prefix>,
}

impl Filter {
    /// Whether the filter has any condition at all.
    pub fn is_empty(&self) -> bool {
        self.local_ports.is_empty()
            && self.remote_ports.is_empty()
            && self.any_ports.is_empty()
            && self.address.is_none()
    }

    /// Whether `socket` passes (unix sockets pass only an empty filter).
    pub fn matches(&self, socket: &Socket) -> bool {
        let (
            Endpoint::Inet {
                address: la,
                port: lp,
            },
            Endpoint::Inet {
                address: ra,
                port: rp,
            },
        ) = (&socket.local, &socket.peer)
        else {
            return self.is_empty();
        };
        let within = |ranges: &[PortRange], port: u16| ranges.iter().any(|r| r.contains(port));
        (self.local_ports.is_empty() || within(&self.local_ports, *lp))
            && (self.remote_ports.is_empty() || within(&self.remote_ports, *rp))
            && (self.any_ports.is_empty()
                || within(&self.any_ports, *lp)
                || within(&self.any_ports, *rp))
            && self
                .address
                .is_none_or(|p| p.contains(la) || p.contains(ra))
    }

    /// The filter as inet_diag bytecode (empty when there is nothing to filter).
    pub fn bytecode(&self) -> Vec<u8> {
        let mut terms = Vec::new();
        let ports = |ranges: &[PortRange], side: Side| -> Expr {
            Expr::Or(ranges.iter().map(|r| Expr::Port(side, *r)).collect())
        };
        if !self.local_ports.is_empty() {
            terms.push(ports(&self.local_ports, Side::Local));
        }
        if !self.remote_ports.is_empty() {
            terms.push(ports(&self.remote_ports, Side::Remote));
        }
        if !self.any_ports.is_empty() {
            terms.push(Expr::Or(vec![
                ports(&self.any_ports, Side::Local),
                ports(&self.any_ports, Side::Remote),
            ]));
        }
        if let Some(prefix) = self.address {
            terms.push(Expr::Or(vec![
                Expr::Host(Side::Local, prefix),
                Expr::Host(Side::Remote, prefix),
            ]));
        }
        if terms.is_empty() {
            return Vec::new();
        }
        Assembler::compile(&Expr::And(terms))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Local,
    Remote,
}

/// A condition tree before it is laid out as bytecode.
#[derive(Debug, Clone)]
enum Expr {
    Port(Side, PortRange),
    Host(Side, Prefix),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

// Opcodes of `enum inet_diag_bc_op` (linux/inet_diag.h).
const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;
const BC_S_COND: u8 = 7;
const BC_D_COND: u8 = 8;
const BC_S_EQ: u8 = 11;
const BC_D_EQ: u8 = 12;
/// `struct inet_diag_bc_op`: code, yes, no.
const OP_LEN: usize = 4;
/// `struct inet_diag_hostcond` without its address: family, prefix_len, pad, port.
const HOSTCOND_LEN: usize = 8;

/// Where a `no` branch goes: a label resolved once the code is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Label(usize),
    /// Past the end by one op: the kernel rejects the socket.
    Reject,
}

struct Op {
    code: u8,
    /// Extra bytes after the op header (port word, hostcond).
    data: Vec<u8>,
    no: Target,
}

/// Lays out ops so that every op's `yes` is "the next op" (the kernel's
/// verifier walks the program along `yes`), conditions fall through when
/// true and jump via `no` when false, and an unconditional JMP ends each
/// true branch of an OR.
struct Assembler {
    ops: Vec<Op>,
    /// Op index each label points at (`ops.len()` = the end, accept).
    labels: Vec<usize>,
}

impl Assembler {
    fn compile(expr: &Expr) -> Vec<u8> {
        let mut asm = Assembler {
            ops: Vec::new(),
            labels: Vec::new(),
        };
        asm.emit(expr, Target::Reject);
        asm.layout()
    }

    fn new_label(&mut self) -> usize {
        self.labels.push(usize::MAX);
        self.labels.len() - 1
    }

    fn place(&mut self, label: usize) {
        self.labels[label] = self.ops.len();
    }

    /// Emits code that falls through when `expr` holds and goes to `fail` when not.
    fn emit(&mut self, expr: &Expr, fail: Target) {
        match expr {
            Expr::Port(side, range) => self.emit_port(*side, *range, fail),
            Expr::Host(side, prefix) => {
                let mut data = Vec::with_capacity(HOSTCOND_LEN + 16);
                let (family, octets): (u8, Vec<u8>) = match prefix.address {
                    IpAddr::V4(v4) => (libc::AF_INET as u8, v4.octets().to_vec()),
                    IpAddr::V6(v6) => (libc::AF_INET6 as u8, v6.octets().to_vec()),
                };
                data.push(family);
                data.push(prefix.len);
                data.extend_from_slice(&[0, 0]);
                data.extend_from_slice(&(-1i32).to_ne_bytes()); // any port
                data.extend_from_slice(&octets);
                let code = if *side == Side::Local {
                    BC_S_COND
                } else {
                    BC_D_COND
                };
                self.ops.push(Op {
                    code,
                    data,
                    no: fail,
                });
            }
            Expr::And(terms) => {
                for term in terms {
                    self.emit(term, fail);
                }
            }
            Expr::Or(alternatives) => {
                let done = self.new_label();
                for (i, alternative) in alternatives.iter().enumerate() {
                    if i + 1 == alternatives.len() {
                        self.emit(alternative, fail);
                    } else {
                        let next = self.new_label();
                        self.emit(alternative, Target::Label(next));
                        self.ops.push(Op {
                            code: BC_JMP,
                            data: Vec::new(),
                            no: Target::Label(done),
                        });
                        self.place(next);
                    }
                }
                self.place(done);
            }
        }
    }

    fn emit_port(&mut self, side: Side, range: PortRange, fail: Target) {
        let word = |port: u16| {
            // The second op word carries the port in its `no` field, host order.
            let mut data = vec![0u8, 0];
            data.extend_from_slice(&port.to_ne_bytes());
            data
        };
        let (eq, ge, le) = match side {
            Side::Local => (BC_S_EQ, BC_S_GE, BC_S_LE),
            Side::Remote => (BC_D_EQ, BC_D_GE, BC_D_LE),
        };
        if range.lo == range.hi {
            self.ops.push(Op {
                code: eq,
                data: word(range.lo),
                no: fail,
            });
        } else {
            self.ops.push(Op {
                code: ge,
                data: word(range.lo),
                no: fail,
            });
            self.ops.push(Op {
                code: le,
                data: word(range.hi),
                no: fail,
            });
        }
    }

    fn layout(&self) -> Vec<u8> {
        let sizes: Vec<usize> = self.ops.iter().map(|op| OP_LEN + op.data.len()).collect();
        let mut offsets = Vec::with_capacity(sizes.len() + 1);
        let mut at = 0;
        for size in &sizes {
            offsets.push(at);
            at += size;
        }
        offsets.push(at);
        let total = at;
        let mut code = Vec::with_capacity(total);
        for (i, op) in self.ops.iter().enumerate() {
            let target = match op.no {
                Target::Label(label) => offsets[self.labels[label]],
                Target::Reject => total + OP_LEN,
            };
            let no = u16::try_from(target - offsets[i]).unwrap_or(u16::MAX);
            let yes = u8::try_from(sizes[i]).unwrap_or(u8::MAX);
            code.push(op.code);
            code.push(yes);
            code.extend_from_slice(&no.to_ne_bytes());
            code.extend_from_slice(&op.data);
        }
        code
    }
}

/// Runs bytecode the way the kernel's `inet_diag_bc_run` does, for tests.
#[cfg(test)]
pub(crate) fn run_bytecode(code: &[u8], local: (IpAddr, u16), remote: (IpAddr, u16)) -> bool {
    let mut pc = 0usize;
    let len = code.len();
    while pc < len {
        let op = &code[pc..];
        let (yes, no) = (
            usize::from(op[1]),
            usize::from(u16::from_ne_bytes([op[2], op[3]])),
        );
        let port_arg = || u16::from_ne_bytes([op[6], op[7]]);
        let host = |address: IpAddr| {
            let prefix_len = op[5];
            let cond = if op[4] == libc::AF_INET as u8 {
                IpAddr::from(<[u8; 4]>::try_from(&op[12..16]).unwrap())
            } else {
                IpAddr::from(<[u8; 16]>::try_from(&op[12..28]).unwrap())
            };
            Prefix {
                address: cond,
                len: prefix_len,
            }
            .contains(&address)
        };
        let taken = match op[0] {
            BC_JMP => false,
            BC_S_EQ => local.1 == port_arg(),
            BC_D_EQ => remote.1 == port_arg(),
            BC_S_GE => local.1 >= port_arg(),
            BC_S_LE => local.1 <= port_arg(),
            BC_D_GE => remote.1 >= port_arg(),
            BC_D_LE => remote.1 <= port_arg(),
            BC_S_COND => host(local.0),
            BC_D_COND => host(remote.0),
            other => panic!("unknown opcode {other}"),
        };
        pc += if taken { yes } else { no };
    }
    pc == len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ports_and_ranges_parse_with_clear_errors() {
        assert_eq!("8080".parse::<PortRange>().unwrap(), PortRange::one(8080));
        assert_eq!(
            "8000-8100".parse::<PortRange>().unwrap(),
            PortRange { lo: 8000, hi: 8100 }
        );
        assert!("0".parse::<PortRange>().unwrap_err().contains("1 to 65535"));
        assert!(
            "65536"
                .parse::<PortRange>()
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            "-5".parse::<PortRange>()
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            "http"
                .parse::<PortRange>()
                .unwrap_err()
                .contains("not a port number")
        );
        assert!(
            "9000-8000"
                .parse::<PortRange>()
                .unwrap_err()
                .contains("reversed")
        );
    }

    #[test]
    fn prefixes_match_mapped_addresses() {
        let net: Prefix = "127.0.0.0/8".parse().unwrap();
        assert!(net.contains(&ip("127.1.2.3")));
        assert!(net.contains(&ip("::ffff:127.0.0.1")));
        assert!(!net.contains(&ip("10.0.0.1")));
        let host: Prefix = "::1".parse().unwrap();
        assert_eq!(host.len, 128);
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
    }

    /// A connection to test a filter on: (local address, port), (remote address, port).
    type Case = ((&'static str, u16), (&'static str, u16));

    /// The compiled program must decide exactly as the filter does.
    fn agrees(filter: &Filter, cases: &[Case]) {
        let code = filter.bytecode();
        assert_eq!(code.len() % 4, 0);
        for ((la, lp), (ra, rp)) in cases {
            let socket = Socket {
                proto: super::super::Proto::Tcp,
                family: super::super::Family::Inet,
                unix_type: None,
                state: super::super::state::ESTABLISHED,
                recv_q: 0,
                send_q: 0,
                local: Endpoint::Inet {
                    address: ip(la),
                    port: *lp,
                },
                peer: Endpoint::Inet {
                    address: ip(ra),
                    port: *rp,
                },
                interface: None,
                uid: None,
                inode: 0,
                processes: Vec::new(),
                tcp_info: None,
                timer: None,
                memory: None,
            };
            assert_eq!(
                run_bytecode(&code, (ip(la), *lp), (ip(ra), *rp)),
                filter.matches(&socket),
                "{filter:?} on {la}:{lp} -> {ra}:{rp}"
            );
        }
    }

    const CASES: [Case; 7] = [
        (("127.0.0.1", 22), ("127.0.0.1", 40000)),
        (("127.0.0.1", 40000), ("127.0.0.1", 22)),
        (("10.0.0.1", 8080), ("10.0.0.2", 55555)),
        (("10.0.0.1", 8050), ("192.168.1.1", 8099)),
        (("::1", 53), ("::1", 60000)),
        (("10.1.0.1", 9000), ("0.0.0.0", 0)),
        (("192.168.1.5", 443), ("10.0.0.9", 22)),
    ];

    #[test]
    fn single_ports_compile_to_equality_tests() {
        let filter = Filter {
            local_ports: vec![PortRange::one(22)],
            ..Filter::default()
        };
        assert_eq!(filter.bytecode().len(), 8);
        agrees(&filter, &CASES);
    }

    #[test]
    fn either_end_and_ranges_and_lists_compile_correctly() {
        let filter = Filter {
            any_ports: vec![PortRange::one(22), PortRange { lo: 8000, hi: 8100 }],
            ..Filter::default()
        };
        agrees(&filter, &CASES);
        let filter = Filter {
            local_ports: vec![PortRange { lo: 8000, hi: 9000 }],
            remote_ports: vec![PortRange::one(55555), PortRange::one(8099)],
            ..Filter::default()
        };
        agrees(&filter, &CASES);
    }

    #[test]
    fn address_prefixes_compile_to_host_conditions() {
        for prefix in ["10.0.0.0/8", "127.0.0.1", "::1", "192.168.0.0/16"] {
            let filter = Filter {
                address: Some(prefix.parse().unwrap()),
                ..Filter::default()
            };
            agrees(&filter, &CASES);
        }
        let filter = Filter {
            address: Some("10.0.0.0/8".parse().unwrap()),
            any_ports: vec![PortRange::one(22)],
            ..Filter::default()
        };
        agrees(&filter, &CASES);
    }

    #[test]
    fn empty_filter_needs_no_bytecode() {
        assert!(Filter::default().bytecode().is_empty());
    }
}
