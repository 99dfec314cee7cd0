//! `netdx top`'s rates from scripted counters and a simulated clock.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::clock::{Clock, SimClock};

fn conn(
    inode: u32,
    local: &str,
    peer: &str,
    pid: Option<u32>,
    sent: u64,
    received: u64,
) -> ConnectionCounters {
    ConnectionCounters {
        inode,
        local: local.parse::<SocketAddr>().unwrap(),
        peer: peer.parse::<SocketAddr>().unwrap(),
        pid,
        command: pid.map(|p| Arc::from(format!("cmd{p}"))),
        sent,
        received,
        rtt_ms: Some(0.05),
        retransmits: 0,
    }
}

fn iface(name: &str, rx: u64, tx: u64) -> InterfaceCounters {
    InterfaceCounters {
        name: name.into(),
        rx_bytes: rx,
        tx_bytes: tx,
    }
}

fn sample(connections: Vec<ConnectionCounters>, interfaces: Vec<InterfaceCounters>) -> Sample {
    Sample {
        connections,
        interfaces,
        hidden_processes: 0,
    }
}

fn no_user(_: u32) -> Option<String> {
    None
}

#[test]
fn rates_are_each_counters_growth_over_the_interval_summed_per_process() {
    let clock = SimClock::new();
    let first = sample(
        vec![
            conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 1_000, 500),
            conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(7), 0, 0),
            conn(12, "10.0.0.1:40002", "10.0.0.3:22", Some(8), 100, 100),
        ],
        vec![iface("eth0", 10_000, 20_000)],
    );
    let mut top = Top::new(first, clock.now());
    clock.advance(Duration::from_secs(2));
    let second = sample(
        vec![
            conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 5_000, 2_500),
            conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(7), 2_000, 0),
            conn(12, "10.0.0.1:40002", "10.0.0.3:22", Some(8), 100, 100),
        ],
        vec![iface("eth0", 14_000, 30_000)],
    );
    let report = top.next(second, clock.now(), Sort::Rate, &mut no_user);
    assert_eq!(report.interval_s, 2.0);
    let first_row = &report.connections[0];
    assert_eq!(first_row.local.port(), 40000);
    assert_eq!(first_row.tx_bytes_per_sec, 2_000.0);
    assert_eq!(first_row.rx_bytes_per_sec, 1_000.0);
    assert_eq!((first_row.tx_bytes, first_row.rx_bytes), (4_000, 2_000));
    assert_eq!(report.connections[1].tx_bytes_per_sec, 1_000.0);
    assert_eq!(report.connections[2].tx_bytes_per_sec, 0.0);
    let busiest = &report.processes[0];
    assert_eq!((busiest.pid, busiest.connections), (7, 2));
    assert_eq!(&*busiest.command, "cmd7");
    assert_eq!(busiest.tx_bytes_per_sec, 3_000.0);
    assert_eq!(busiest.rx_bytes_per_sec, 1_000.0);
    assert_eq!(report.processes[1].pid, 8);
    assert_eq!(report.interfaces[0].rx_bytes_per_sec, 2_000.0);
    assert_eq!(report.interfaces[0].tx_bytes_per_sec, 5_000.0);
    assert_eq!(report.unseen.len(), 2, "what cannot be seen is said");
}

#[test]
fn a_connection_new_in_the_interval_counts_all_it_moved_and_reused_ends_start_again() {
    let clock = SimClock::new();
    let mut top = Top::new(
        sample(
            vec![conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 9_000, 0)],
            vec![],
        ),
        clock.now(),
    );
    clock.advance(Duration::from_secs(1));
    // Port 40000 to the same peer again, but another socket (inode 20), and
    // a connection opened since the last sample.
    let report = top.next(
        sample(
            vec![
                conn(20, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 300, 0),
                conn(21, "10.0.0.1:40005", "10.0.0.2:80", Some(7), 700, 0),
            ],
            vec![],
        ),
        clock.now(),
        Sort::Rate,
        &mut no_user,
    );
    let rates: Vec<f64> = report
        .connections
        .iter()
        .map(|c| c.tx_bytes_per_sec)
        .collect();
    assert_eq!(rates, [700.0, 300.0]);
    assert_eq!(report.processes[0].tx_bytes, 1_000);
}

#[test]
fn totals_accumulate_over_refreshes_and_closed_connections_are_forgotten() {
    let clock = SimClock::new();
    let a = |sent| conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), sent, 0);
    let b = |sent| conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(8), sent, 0);
    let mut top = Top::new(
        sample(vec![a(0), b(0)], vec![iface("lo", 0, 0)]),
        clock.now(),
    );
    for (step, sent) in [(1u64, 100u64), (2, 300), (3, 600)] {
        clock.advance(Duration::from_secs(1));
        let report = top.next(
            sample(vec![a(sent), b(step)], vec![iface("lo", sent, sent)]),
            clock.now(),
            Sort::Total,
            &mut no_user,
        );
        assert_eq!(report.connections[0].tx_bytes, sent);
        assert_eq!(report.interfaces[0].rx_bytes, sent);
    }
    clock.advance(Duration::from_secs(1));
    let report = top.next(
        sample(vec![b(4)], vec![]),
        clock.now(),
        Sort::Total,
        &mut no_user,
    );
    assert_eq!(report.connections.len(), 1);
    assert_eq!(
        top.connection_totals.len(),
        1,
        "only live connections are kept"
    );
    assert!(top.interface_totals.is_empty());
    assert_eq!(report.processes.len(), 1);
}

#[test]
fn total_order_puts_the_biggest_mover_first_even_when_it_is_idle_now() {
    let clock = SimClock::new();
    let mut top = Top::new(
        sample(
            vec![
                conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 0, 0),
                conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(8), 0, 0),
            ],
            vec![],
        ),
        clock.now(),
    );
    clock.advance(Duration::from_secs(1));
    top.next(
        sample(
            vec![
                conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 1_000_000, 0),
                conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(8), 10, 0),
            ],
            vec![],
        ),
        clock.now(),
        Sort::Rate,
        &mut no_user,
    );
    clock.advance(Duration::from_secs(1));
    let later = sample(
        vec![
            conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), 1_000_000, 0),
            conn(11, "10.0.0.1:40001", "10.0.0.2:80", Some(8), 1_000, 0),
        ],
        vec![],
    );
    let by_total = top
        .clone()
        .next(later.clone(), clock.now(), Sort::Total, &mut no_user);
    assert_eq!(by_total.processes[0].pid, 7);
    let by_rate = top.next(later, clock.now(), Sort::Rate, &mut no_user);
    assert_eq!(by_rate.processes[0].pid, 8);
}

#[test]
fn users_are_looked_up_once_per_process_and_hidden_processes_are_reported() {
    let clock = SimClock::new();
    let c = |sent| conn(10, "10.0.0.1:40000", "10.0.0.2:80", Some(7), sent, 0);
    let mut top = Top::new(sample(vec![c(0)], vec![]), clock.now());
    let lookups = RefCell::new(0);
    let mut user_of = |_: u32| {
        *lookups.borrow_mut() += 1;
        Some("alice".to_string())
    };
    for sent in [10, 20, 30] {
        clock.advance(Duration::from_secs(1));
        let mut s = sample(vec![c(sent)], vec![]);
        s.hidden_processes = 3;
        let report = top.next(s, clock.now(), Sort::Rate, &mut user_of);
        assert_eq!(report.processes[0].user.as_deref(), Some("alice"));
        assert_eq!(report.hidden_processes, 3);
    }
    assert_eq!(*lookups.borrow(), 1);
}

/// Counters that hand out scripted samples, advancing nothing themselves.
struct Scripted(VecDeque<Sample>);

impl Counters for Scripted {
    fn sample(&mut self) -> Result<Sample, TopError> {
        Ok(self.0.pop_front().unwrap_or_default())
    }
}

#[test]
fn the_run_refreshes_every_interval_keeps_its_rhythm_after_a_stall_and_stops_on_count() {
    let clock = SimClock::new();
    let start = clock.now();
    let samples = (0..10)
        .map(|n| sample(vec![], vec![iface("lo", n * 1_000, 0)]))
        .collect();
    let mut counters = Scripted(samples);
    let request = Request {
        interval: Duration::from_secs(1),
        sort: Sort::Rate,
        count: Some(4),
    };
    let waits = RefCell::new(Vec::new());
    let mut wait = |d: Duration| {
        waits.borrow_mut().push(d);
        clock.advance(d);
        // The second refresh's sample stalls for 2.5 s.
        if waits.borrow().len() == 2 {
            clock.advance(Duration::from_millis(2_500));
        }
        true
    };
    let mut at = Vec::new();
    let mut on_report = |report: Report| {
        at.push((clock.now() - start, report.interval_s));
        Ok(())
    };
    let now = || clock.now();
    let reports = run(
        &request,
        &mut counters,
        &now,
        &mut wait,
        &mut no_user,
        &mut on_report,
    )
    .unwrap();
    assert_eq!(reports, 4);
    let times: Vec<f64> = at.iter().map(|(t, _)| t.as_secs_f64()).collect();
    assert_eq!(
        times,
        [1.0, 4.5, 5.5, 6.5],
        "no burst of refreshes after the stall"
    );
    assert_eq!(
        at[1].1, 3.5,
        "the stalled interval is as long as it really was"
    );
}

#[test]
fn the_run_stops_when_the_wait_is_interrupted() {
    let clock = SimClock::new();
    let mut counters = Scripted(VecDeque::new());
    let request = Request {
        interval: Duration::from_secs(1),
        sort: Sort::Rate,
        count: None,
    };
    let mut calls = 0;
    let mut wait = |d: Duration| {
        clock.advance(d);
        calls += 1;
        calls < 3
    };
    let now = || clock.now();
    let reports = run(
        &request,
        &mut counters,
        &now,
        &mut wait,
        &mut no_user,
        &mut |_| Ok(()),
    )
    .unwrap();
    assert_eq!(reports, 2);
}

#[test]
fn samples_in_different_orders_are_matched_connection_by_connection() {
    // The kernel's dump order is its hash table's; orphans (inode 0)
    // share an inode and are told apart by their ends.
    let clock = SimClock::new();
    let first = sample(
        vec![
            conn(30, "10.0.0.1:3", "10.0.0.2:80", Some(1), 300, 0),
            conn(0, "10.0.0.1:9", "10.0.0.2:80", None, 900, 0),
            conn(10, "10.0.0.1:1", "10.0.0.2:80", Some(1), 100, 0),
            conn(0, "10.0.0.1:8", "10.0.0.2:80", None, 800, 0),
            conn(20, "10.0.0.1:2", "10.0.0.2:80", Some(1), 200, 0),
        ],
        vec![],
    );
    let mut top = Top::new(first, clock.now());
    clock.advance(Duration::from_secs(1));
    let second = sample(
        vec![
            conn(0, "10.0.0.1:8", "10.0.0.2:80", None, 808, 0),
            conn(20, "10.0.0.1:2", "10.0.0.2:80", Some(1), 202, 0),
            conn(10, "10.0.0.1:1", "10.0.0.2:80", Some(1), 101, 0),
            conn(0, "10.0.0.1:9", "10.0.0.2:80", None, 909, 0),
            conn(30, "10.0.0.1:3", "10.0.0.2:80", Some(1), 303, 0),
        ],
        vec![],
    );
    let report = top.next(second, clock.now(), Sort::Rate, &mut no_user);
    let rates: Vec<(u16, f64)> = report
        .connections
        .iter()
        .map(|c| (c.local.port(), c.tx_bytes_per_sec))
        .collect();
    assert_eq!(rates, [(9, 9.0), (8, 8.0), (3, 3.0), (2, 2.0), (1, 1.0)]);
}

#[test]
fn connection_order_sorts_by_inode_then_ends() {
    let mut rows = vec![
        conn(7, "10.0.0.1:1", "10.0.0.2:1", None, 0, 0),
        conn(0, "10.0.0.1:5", "10.0.0.2:1", None, 0, 0),
        conn(3, "10.0.0.1:2", "10.0.0.2:1", None, 0, 0),
        conn(0, "10.0.0.1:4", "10.0.0.2:1", None, 0, 0),
    ];
    connection_order(&mut rows);
    let order: Vec<(u32, u16)> = rows.iter().map(|c| (c.inode, c.local.port())).collect();
    assert_eq!(order, [(0, 4), (0, 5), (3, 2), (7, 1)]);
}

#[test]
fn connection_order_of_a_shuffled_table_is_the_sorted_table() {
    let mut rows: Vec<ConnectionCounters> = (0..2_000u32)
        .map(|i| {
            // A multiplicative shuffle of the inodes, with every 50th an orphan.
            let inode = if i % 50 == 0 {
                0
            } else {
                i.wrapping_mul(7_919) % 4_001
            };
            let local = format!("10.0.{}.{}:{}", i % 7, i % 251, 1_000 + i);
            conn(inode, &local, "10.9.9.9:80", None, u64::from(i), 0)
        })
        .collect();
    let mut expected = rows.clone();
    expected.sort_by_key(|c| (c.inode, c.local, c.peer));
    connection_order(&mut rows);
    assert_eq!(rows, expected);
}
