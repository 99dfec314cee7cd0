//! The command line: clap types for every subcommand.
//!
//! User input is parsed into domain types here (interface names, …), so the
//! domain never sees a raw string.

use clap::{Args, Parser, Subcommand};

use crate::iface::IfaceName;
use crate::render::ColorChoice;

const TOP_EXAMPLES: &str = "\
Examples:
  netdx ifconfig                 interfaces that are up, as ifconfig shows them
  netdx ifconfig -a --json       every interface as JSON
  netdx ifconfig -s              the short counters table (ifconfig -s, netstat -i)

Exit status: 0 success, 1 a negative answer (no reply, port free), 2 an error.";

const IFCONFIG_EXAMPLES: &str = "\
Examples:
  netdx ifconfig                 interfaces that are up
  netdx ifconfig -a              every interface, down ones too
  netdx ifconfig eth0            one interface, whatever its state
  netdx ifconfig -s              short table: MTU, RX/TX ok, errors, drops, overruns, flags
  netdx ifconfig -a --json       every interface as JSON (fields: docs/json.md)

Counters mean what ifconfig's mean: RX dropped includes packets the NIC missed,
RX frame sums length/overflow/CRC/frame errors, TX carrier sums carrier/aborted/
window/heartbeat errors.";

/// netdx: one binary for network diagnostics.
#[derive(Debug, Parser)]
#[command(
    name = "netdx",
    version,
    about = "Network diagnostics in one binary: interfaces, connectivity, sockets, ports",
    after_help = TOP_EXAMPLES,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout instead of text (fields: docs/json.md)
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour the output; NO_COLOR in the environment turns `auto` off
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect interfaces: addresses, flags, MTU, MAC, counters (replaces ifconfig, ip addr, ip -s link)
    #[command(after_help = IFCONFIG_EXAMPLES)]
    Ifconfig(IfconfigArgs),
}

/// `netdx ifconfig [-a] [-s] [IFACE]`
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
