//! `/proc/<pid>/net/dev`: two header lines, then `iface: 16 counters` per interface (8
//! receive, 8 transmit). Old kernels print no blank after the colon when the first counter is
//! wide (`eth0:1234567 ...`), which is handled.

use nom::bytes::complete::take_till1;
use nom::character::complete::{char, space0, space1};
use nom::multi::fill;
use nom::sequence::preceded;
use nom::Parser;

use super::{decimal_u64, parse_line, Lines, ParseError};

const EXPECTED: &str = "`iface: 16 counters`";

/// One interface's counters, in the kernel's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetDevLine<'a> {
    /// Interface name (`eth0`, `lo`).
    pub iface: &'a [u8],
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errs: u64,
    /// Received packets dropped.
    pub rx_drop: u64,
    /// Receive FIFO overruns.
    pub rx_fifo: u64,
    /// Receive framing errors.
    pub rx_frame: u64,
    /// Compressed packets received.
    pub rx_compressed: u64,
    /// Multicast frames received.
    pub rx_multicast: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errs: u64,
    /// Outgoing packets dropped.
    pub tx_drop: u64,
    /// Transmit FIFO overruns.
    pub tx_fifo: u64,
    /// Collisions.
    pub tx_colls: u64,
    /// Carrier losses.
    pub tx_carrier: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
}

impl NetDevLine<'_> {
    /// True for the loopback interface, which podman leaves out of its network totals.
    pub fn is_loopback(&self) -> bool {
        self.iface == b"lo"
    }
}

/// Iterates the interfaces; the two header lines are checked (they hold `|`) and skipped.
pub fn iter(data: &[u8]) -> NetDev<'_> {
    NetDev {
        lines: Lines::new(data),
        headers_left: 2,
    }
}

/// The interfaces of a `net/dev` file; see [`iter`].
#[derive(Debug, Clone)]
pub struct NetDev<'a> {
    lines: Lines<'a>,
    headers_left: u8,
}

impl<'a> Iterator for NetDev<'a> {
    type Item = Result<NetDevLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.headers_left > 0 {
            let (no, line) = self.lines.next()?;
            self.headers_left -= 1;
            if !line.contains(&b'|') {
                self.headers_left = 0;
                // Drain so the iteration ends after reporting the error.
                self.lines = Lines::new(&[]);
                return Some(Err(ParseError::new(no, "a header line with `|`", line)));
            }
        }
        let (no, line) = self.lines.next()?;
        Some(parse_line(entry, no, line, EXPECTED))
    }
}

fn entry(input: &[u8]) -> nom::IResult<&[u8], NetDevLine<'_>> {
    let (input, (iface, _, _)) = (
        take_till1(|b: u8| b == b':' || b.is_ascii_whitespace()),
        char(':'),
        space0,
    )
        .parse(input)?;
    let mut c = [0u64; 16];
    let (input, first) = decimal_u64(input)?;
    let (input, ()) = fill(preceded(space1, decimal_u64), &mut c[1..]).parse(input)?;
    c[0] = first;
    Ok((
        input,
        NetDevLine {
            iface,
            rx_bytes: c[0],
            rx_packets: c[1],
            rx_errs: c[2],
            rx_drop: c[3],
            rx_fifo: c[4],
            rx_frame: c[5],
            rx_compressed: c[6],
            rx_multicast: c[7],
            tx_bytes: c[8],
            tx_packets: c[9],
            tx_errs: c[10],
            tx_drop: c[11],
            tx_fifo: c[12],
            tx_colls: c[13],
            tx_carrier: c[14],
            tx_compressed: c[15],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &[u8] = b"Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0: 5000      40    1    2    3     4          5         6     7000      50    7    8    9    10      11         12
";

    #[test]
    fn interfaces_after_the_headers() {
        let lines: Vec<_> = iter(NET_DEV).collect::<Result<_, _>>().unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].is_loopback());
        let eth = lines[1];
        assert_eq!(eth.iface, b"eth0");
        assert_eq!(
            (eth.rx_bytes, eth.rx_packets, eth.rx_multicast),
            (5000, 40, 6)
        );
        assert_eq!(
            (eth.tx_bytes, eth.tx_packets, eth.tx_compressed),
            (7000, 50, 12)
        );
    }

    #[test]
    fn old_kernels_glue_the_first_counter_to_the_colon() {
        let data = b"h|\nh|\neth0:1234567 1 0 0 0 0 0 0 2 3 0 0 0 0 0 0";
        let l = iter(data).next().unwrap().unwrap();
        assert_eq!((l.rx_bytes, l.tx_bytes, l.tx_packets), (1234567, 2, 3));
    }

    #[test]
    fn malformed_files() {
        assert_eq!(iter(b"no header\n").next().unwrap().unwrap_err().line, 1);
        assert_eq!(iter(b"no header\n").count(), 1);
        let err = iter(b"h|\nh|\neth0: 1 2 3\n").next().unwrap().unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            iter(b"h|\nh|\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n")
                .next()
                .unwrap()
                .is_err()
        );
        assert_eq!(iter(b"h|\nh|\n").count(), 0);
    }
}
