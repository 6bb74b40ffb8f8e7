//! Comment-only lines blanked before TOML parsing: a speed-up that cannot change a meaning.

/// `text` with every comment-only line emptied (its line break kept, so the parser's
/// line numbers stay right), when that cannot change what the TOML means.
///
/// The shipped `containers.conf` and `storage.conf` are hundreds of commented-out lines
/// around a few keys; the TOML parser spends most of its time validating those comments
/// (about 0.7 M instructions for the 24 KB `containers.conf`, read on every discovery).
/// A line whose first non-blank character is `#` is wholly a comment unless it sits inside
/// a multi-line string, and such a string opens on a line that is not a comment: so when
/// no other line holds a `"""` or `'''`, there is none, and otherwise nothing is changed.
/// Nor is a text with a control character other than tab and newline (a comment holding
/// one is invalid, and a CR belongs to a line end only when a LF follows): the parser
/// judges those.
pub(super) fn blank_comment_lines(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    if has_control(bytes) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut blanked = false;
    let mut start = 0usize;
    while let Some(rest) = text.get(start..).filter(|r| !r.is_empty()) {
        let len =
            crate::parse::search::find_byte(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
        let line = rest.get(..len).unwrap_or(rest);
        start += len;
        let content = line.strip_suffix('\n').unwrap_or(line);
        if content.trim_start_matches([' ', '\t']).starts_with('#') {
            out.push_str(line.get(content.len()..).unwrap_or_default());
            blanked = true;
        } else if has_triple_quote(content.as_bytes()) {
            return std::borrow::Cow::Borrowed(text);
        } else {
            out.push_str(line);
        }
    }
    if blanked {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// True when `bytes` holds a control character other than tab and newline (DEL counts).
fn has_control(bytes: &[u8]) -> bool {
    // Branch-free over fixed chunks, so that it runs in wide steps.
    bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |seen, &b| {
            seen | ((b < 0x20) & (b != b'\t') & (b != b'\n')) | (b == 0x7f)
        })
    })
}

/// True when `line` holds `"""` or `'''` (a multi-line string's delimiter).
fn has_triple_quote(line: &[u8]) -> bool {
    line.windows(3).any(|w| w == b"\"\"\"" || w == b"'''")
}

#[cfg(test)]
mod tests {
    use super::super::ContainersConfFile;
    use super::*;

    /// What a TOML text means to us, parsed as it is, not through `blank_comment_lines`.
    fn engine_as_is(text: &str) -> Result<(Option<String>, Option<String>), String> {
        toml::from_str::<ContainersConfFile>(text)
            .map(|c| (c.engine.static_dir, c.engine.tmp_dir))
            .map_err(|e| e.to_string())
    }

    fn engine_blanked(text: &str) -> Result<(Option<String>, Option<String>), String> {
        toml::from_str::<ContainersConfFile>(&blank_comment_lines(text))
            .map(|c| (c.engine.static_dir, c.engine.tmp_dir))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn comment_lines_are_blanked_only_when_that_changes_nothing() {
        let text = "# head\n[engine]\n  # indented\n\tstatic_dir = \"/s\" # tail\n#";
        assert_eq!(
            blank_comment_lines(text),
            "\n[engine]\n\n\tstatic_dir = \"/s\" # tail\n"
        );
        // CRLF line ends are left to the parser.
        let crlf = "# head\r\n[engine]\r\n";
        assert_eq!(blank_comment_lines(crlf), crlf);
        // Inside a multi-line string a `#` line is text: nothing is touched.
        let multi = "[engine]\nstatic_dir = \"\"\"\n# not a comment\"\"\"\n";
        assert_eq!(blank_comment_lines(multi), multi);
        assert_eq!(
            engine_blanked(multi).unwrap().0.as_deref(),
            Some("# not a comment")
        );
        // A comment with a control character stays, for the parser to refuse.
        let bad = "# bell \u{7}\n[engine]\n";
        assert_eq!(blank_comment_lines(bad), bad);
        assert!(engine_blanked(bad).is_err());
        // An error after blanked lines names the same line.
        let late = "# a\n# b\n[engine]\nstatic_dir = \n";
        assert_eq!(engine_blanked(late), engine_as_is(late));
        // The shipped containers.conf reads the same both ways.
        if let Ok(shipped) = std::fs::read_to_string("/usr/share/containers/containers.conf") {
            assert_eq!(engine_blanked(&shipped), engine_as_is(&shipped));
        }
    }

    proptest::proptest! {
        /// Blanking comment lines never changes what a configuration means: the same keys,
        /// or the same error, for texts made of comments, keys, arrays, multi-line strings
        /// and broken lines.
        #[test]
        fn blanking_comments_keeps_the_meaning(
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "# comment", "  # indented comment", "#", "# \"\"\" in a comment",
                    "[engine]", "[containers]", "static_dir = \"/a\"", "tmp_dir = '/t'",
                    "static_dir = \"\"\"", "# inside?", "\"\"\"", "x = [", "  1, # one",
                    "]", "broken =", "# tab\there", "# ctrl \u{1}", "engine.tmp_dir = \"/d\"",
                    "",
                ]),
                0..12,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            proptest::prop_assert_eq!(engine_blanked(&text), engine_as_is(&text));
        }
    }
}
