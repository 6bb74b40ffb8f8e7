//! Byte searches whose SIMD code is chosen when the crate is compiled, not when first called.
//!
//! memchr's default functions pick AVX2 or SSE2 on their first call, through std's CPU
//! feature detection, which executes CPUID about a dozen times. Where CPUID traps to a
//! hypervisor (10 us each on the bench host) that costs about 0.07 ms per process
//! (BENCHMARKS.md, CLI): more than a one-shot `stats --no-stream` spends on all its searches,
//! whose haystacks are files of a few KiB. SSE2 is part of x86-64 itself, so its searcher
//! needs no detection.

/// The index of the first `needle` in `haystack`.
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        match memchr::arch::x86_64::sse2::memchr::One::new(needle) {
            Some(sse2) => sse2.find(haystack),
            None => memchr::arch::all::memchr::One::new(needle).find(haystack),
        }
    }
    // Elsewhere memchr's vector code needs no run-time detection (aarch64) or has none.
    #[cfg(not(target_arch = "x86_64"))]
    {
        memchr::memchr(needle, haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::find_byte;

    #[test]
    fn finds_the_first_byte() {
        assert_eq!(find_byte(b'\n', b""), None);
        assert_eq!(find_byte(b'\n', b"abc"), None);
        assert_eq!(find_byte(b'\n', b"a\nb\n"), Some(1));
        // past one vector's width, and in its tail
        let mut long = vec![b'x'; 100];
        long[70] = b'\n';
        long[99] = b'\n';
        assert_eq!(find_byte(b'\n', &long), Some(70));
        assert_eq!(find_byte(b'\n', &long[71..]), Some(28));
    }
}
