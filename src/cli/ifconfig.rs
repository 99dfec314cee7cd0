//! `netdx ifconfig` arguments.

use clap::Args;

use crate::iface::IfaceName;

pub(super) const IFCONFIG_EXAMPLES: &str = "\
Examples:
  netdx ifconfig                 interfaces that are up
  netdx ifconfig -a              every interface, down ones too
  netdx ifconfig eth0            one interface, whatever its state
  netdx ifconfig -s              short table: MTU, RX/TX ok, errors, drops, overruns, flags
  netdx ifconfig -a --json       every interface as JSON (fields: docs/json.md)

Counters mean what ifconfig's mean: RX dropped includes packets the NIC missed,
RX frame sums length/overflow/CRC/frame errors, TX carrier sums carrier/aborted/
window/heartbeat errors.";

// `netdx ifconfig [-a] [-s] [IFACE]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct IfconfigArgs {
    /// Show every interface, including those that are down
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Show the short table (like ifconfig -s / netstat -i)
    #[arg(short = 's', long = "short")]
    pub short: bool,
    /// Show only this interface, whatever its state
    #[arg(value_name = "IFACE")]
    pub iface: Option<IfaceName>,
}
