//! Many questions to one server at once (a `--file` of names, dig -f done
//! concurrently): up to `concurrency` queries in flight over one connected
//! UDP socket, each with an ID no other query in flight has, every answer
//! matched by ID and question, a query unanswered after its timeout sent
//! again until its tries run out, a truncated answer asked again over TCP.
//! Questions are taken from an iterator as room frees up (a list of a
//! million names is never held), and lookups reported as they end, with
//! the question's index in the list.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;

use super::client::{self, Exchange, Lookup, Options};
use super::{DnsError, Question, Server, Transport};

/// How hard the engine may push.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Queries in flight at most.
    pub concurrency: usize,
    /// Queries sent per second at most (retries included); None: as fast as answers allow.
    pub rate: Option<f64>,
}

/// Spaces sends `1/rate` apart (a send that comes late does not bank time
/// for a burst beyond one).
struct Pacer {
    interval: Option<Duration>,
    next: Instant,
}

impl Pacer {
    fn new(rate: Option<f64>) -> Pacer {
        Pacer {
            interval: rate
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Instant::now(),
        }
    }

    fn ready(&self, now: Instant) -> bool {
        self.interval.is_none() || now >= self.next
    }

    fn sent(&mut self, now: Instant) {
        if let Some(interval) = self.interval {
            let floor = now.checked_sub(interval).unwrap_or(now);
            self.next = self.next.max(floor) + interval;
        }
    }
}

struct Flight {
    index: usize,
    question: Question,
    query: Vec<u8>,
    sent: Instant,
    tries: u32,
}

/// What a source of questions has now.
#[derive(Debug)]
pub enum Next {
    /// A question.
    Ready(Question),
    /// Nothing yet (the list is still being read).
    NotYet,
    /// No more.
    End,
}

/// Where the questions come from: polled while answers are awaited (a
/// slow list never holds up the reading of answers, nor their timing),
/// waited on only when nothing is in flight.
pub trait Questions {
    /// The next question if one is there now.
    fn poll(&mut self) -> Next;
    /// The next question, waiting for it.
    fn wait(&mut self) -> Next;
}

/// A queue filled by a reader thread.
impl Questions for std::sync::mpsc::Receiver<Question> {
    fn poll(&mut self) -> Next {
        match self.try_recv() {
            Ok(question) => Next::Ready(question),
            Err(std::sync::mpsc::TryRecvError::Empty) => Next::NotYet,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Next::End,
        }
    }

    fn wait(&mut self) -> Next {
        self.recv().map_or(Next::End, Next::Ready)
    }
}

/// How often an empty queue is looked at again while answers are awaited.
const QUEUE_POLL: Duration = Duration::from_millis(2);

/// Asks `server` every question `questions` yields, at most `concurrency`
/// at a time; `observer` gets each question's index, the question and how
/// it ended, in the order they end. Returns the datagrams dropped (not an
/// answer to any query in flight).
pub fn run(
    questions: &mut dyn Questions,
    server: &Server,
    options: &Options,
    limits: Limits,
    observer: &mut dyn FnMut(usize, &Question, Lookup) -> io::Result<()>,
) -> Result<u32, DnsError> {
    let Limits { concurrency, rate } = limits;
    let mut pacer = Pacer::new(rate);
    let mut ended = false;
    let socket = client::udp_socket(server)?;
    let mut buffer = vec![0u8; crate::net::LARGEST_DATAGRAM];
    let mut in_flight: HashMap<u16, Flight> = HashMap::with_capacity(concurrency);
    // Send times in order (one timeout for all, so the earliest is first).
    let mut deadlines: VecDeque<(Instant, u16)> = VecDeque::with_capacity(concurrency);
    let mut next = 0;
    let mut ignored = 0u32;
    let concurrency = concurrency.max(1);
    loop {
        while !ended && in_flight.len() < concurrency && pacer.ready(Instant::now()) {
            let next_question = if in_flight.is_empty() {
                questions.wait()
            } else {
                questions.poll()
            };
            let question = match next_question {
                Next::Ready(question) => question,
                Next::NotYet => break,
                Next::End => {
                    ended = true;
                    break;
                }
            };
            let mut id = crate::names::dns::random_id();
            while in_flight.contains_key(&id) {
                id = id.wrapping_add(1);
            }
            let query = client::encode(&question, id, options)?;
            let now = Instant::now();
            send(&socket, server, &query)?;
            pacer.sent(now);
            in_flight.insert(
                id,
                Flight {
                    index: next,
                    question,
                    query,
                    sent: now,
                    tries: 1,
                },
            );
            deadlines.push_back((now + options.timeout, id));
            next += 1;
        }
        // Room for more, and more may come: look again soon (when the pacer allows).
        let waiting = !ended && in_flight.len() < concurrency;
        if in_flight.is_empty() && ended {
            return Ok(ignored);
        }
        let now = Instant::now();
        let mut wait = deadlines
            .front()
            .map_or(options.timeout, |(at, _)| at.saturating_duration_since(now));
        if waiting {
            wait = wait.min(pacer.next.saturating_duration_since(now).max(QUEUE_POLL));
        }
        let wait = wait.max(Duration::from_micros(100));
        socket.set_read_timeout(Some(wait)).map_err(|source| {
            client::failure("setting the timeout", server, Transport::Udp, source)
        })?;
        match socket.recv(&mut buffer) {
            Ok(n) => {
                let matched = Message::from_vec(&buffer[..n]).ok().and_then(|message| {
                    let id = message.metadata.id;
                    let flight = in_flight.get(&id)?;
                    client::answers(&message, &flight.question, id).then_some((id, message))
                });
                match matched {
                    Some((id, message)) => {
                        let flight = in_flight.remove(&id).expect("matched a query in flight");
                        let lookup = if message.metadata.truncation && !options.tcp {
                            client::tcp(&flight.question, server, &flight.query, id, options, true)?
                        } else {
                            Lookup::Answered(Box::new(Exchange {
                                server: server.clone(),
                                transport: Transport::Udp,
                                retried_over_tcp: false,
                                elapsed: flight.sent.elapsed(),
                                query: flight.query,
                                response: buffer[..n].to_vec(),
                                message,
                                ignored: 0,
                                tls: None,
                            }))
                        };
                        observer(flight.index, &flight.question, lookup)?;
                    }
                    None => ignored += 1,
                }
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(source) => {
                return Err(client::failure(
                    "reading answers",
                    server,
                    Transport::Udp,
                    source,
                ));
            }
        }
        let now = Instant::now();
        while let Some(&(at, id)) = deadlines.front() {
            if at > now {
                break;
            }
            deadlines.pop_front();
            // A deadline of a query answered since, or of an earlier try.
            let Some(flight) = in_flight.get_mut(&id) else {
                continue;
            };
            if flight.sent + options.timeout > now {
                continue;
            }
            if flight.tries < options.tries.max(1) {
                flight.tries += 1;
                flight.sent = now;
                send(&socket, server, &flight.query)?;
                pacer.sent(now);
                deadlines.push_back((now + options.timeout, id));
            } else {
                let flight = in_flight.remove(&id).expect("a query in flight");
                observer(
                    flight.index,
                    &flight.question,
                    Lookup::NoReply {
                        server: server.clone(),
                        transport: Transport::Udp,
                        tries: flight.tries,
                        ignored: 0,
                        query: flight.query,
                    },
                )?;
            }
        }
    }
}

fn send(socket: &std::net::UdpSocket, server: &Server, query: &[u8]) -> Result<(), DnsError> {
    loop {
        match socket.send(query) {
            Ok(_) => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(client::failure(
                    "sending a query",
                    server,
                    Transport::Udp,
                    source,
                ));
            }
        }
    }
}
