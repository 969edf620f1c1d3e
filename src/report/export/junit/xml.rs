//! The little XML junit.xml needs: escaped text and attributes, elements indented by
//! four spaces, one per line.
//!
//! Its own writer, not an XML crate's: junit.xml is a handful of element kinds, and the
//! crate we used (quick-junit) brought chrono, quick-xml and uuid into the release
//! binary's cold build for it. The layout is the one quick-junit wrote, so files written
//! before and after read the same; quick-junit stays a dev-dependency, the independent
//! reader the tests parse our output with.

/// Whether XML 1.0 allows `c` in a document at all (its `Char` production). Rust
/// strings hold no surrogates, so what remains forbidden is the C0 controls other than
/// tab, newline and carriage return, and the non-characters U+FFFE and U+FFFF.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Stands in for a character XML 1.0 forbids, even as a character reference (`&#0;` is
/// as ill-formed as a raw NUL). U+FFFD rather than dropping it: a reader sees that
/// something was there (a NUL or an escape code in a target's answer), and the text
/// around it keeps its place. (quick-junit dropped them, and ANSI escape sequences
/// whole; an escape sequence now shows as U+FFFD followed by its printable rest.)
pub(crate) const REPLACEMENT: char = '\u{fffd}';

/// Appends `s` escaped for where it goes. `& < > " '` are always escaped (quick-junit's
/// choice, kept so the bytes stay the same). In an attribute, tab, newline and carriage
/// return are character references: a parser turns raw ones into spaces, and a
/// multi-line witness must read back as written. In text they stay raw: a parser keeps
/// tab and newline, and reads a carriage return as a newline (`&#13;` would keep it,
/// but quick-junit's reader, the one our tests parse with, rejects a character
/// reference in text).
fn escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            c if allowed(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
}

/// An XML document written element by element. Element and attribute names are the
/// writer's own constants (`&'static str`), never escaped; every value and text is.
pub(crate) struct Writer {
    out: String,
    depth: usize,
    /// Whether the last thing written was text inside the element now open: its end tag
    /// then follows on the same line, as the text must not gain an indent.
    after_text: bool,
}

impl Writer {
    /// A document with its UTF-8 declaration.
    pub(crate) fn new() -> Self {
        Self {
            out: String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
            depth: 0,
            after_text: false,
        }
    }

    fn tag(&mut self, name: &'static str, attributes: &[(&'static str, &str)]) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attributes {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape(v, true, &mut self.out);
            self.out.push('"');
        }
    }

    /// `<name a="v">`, on a line of its own; what follows is inside it until `close`.
    pub(crate) fn open(&mut self, name: &'static str, attributes: &[(&'static str, &str)]) {
        self.tag(name, attributes);
        self.out.push('>');
        self.depth += 1;
        self.after_text = false;
    }

    /// `<name a="v"/>`.
    pub(crate) fn empty(&mut self, name: &'static str, attributes: &[(&'static str, &str)]) {
        self.tag(name, attributes);
        self.out.push_str("/>");
        self.after_text = false;
    }

    /// `<name a="v">text</name>`: the text exactly, with no indent added around it.
    pub(crate) fn text(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
        text: &str,
    ) {
        self.open(name, attributes);
        escape(text, false, &mut self.out);
        self.after_text = true;
        self.close(name);
    }

    /// The end tag of the element `open` began last.
    pub(crate) fn close(&mut self, name: &'static str) {
        self.depth = self.depth.saturating_sub(1);
        if !self.after_text {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("    ");
            }
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self.after_text = false;
    }

    /// The document, ending with a newline.
    pub(crate) fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(s: &str) -> String {
        let mut out = String::new();
        escape(s, true, &mut out);
        out
    }

    fn text(s: &str) -> String {
        let mut out = String::new();
        escape(s, false, &mut out);
        out
    }

    #[test]
    fn markup_characters_are_escaped_in_text_and_attributes() {
        let hostile = r#"a & b < c > d "e" 'f' ]]> g"#;
        let want = "a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos; ]]&gt; g";
        assert_eq!(text(hostile), want);
        assert_eq!(attr(hostile), want);
    }

    #[test]
    fn whitespace_survives_a_parser_s_normalization() {
        assert_eq!(text("a\tb\nc\rd"), "a\tb\nc\rd");
        assert_eq!(attr("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    }

    #[test]
    fn characters_xml_forbids_become_the_replacement_character() {
        for c in ('\0'..'\u{20}').filter(|c| !matches!(c, '\t' | '\n' | '\r')) {
            assert_eq!(text(&format!("x{c}y")), "x\u{fffd}y", "{:?}", c);
            assert_eq!(attr(&format!("x{c}y")), "x\u{fffd}y", "{:?}", c);
        }
        assert_eq!(text("\u{fffe}\u{ffff}"), "\u{fffd}\u{fffd}");
        // Allowed, if discouraged: kept as they are.
        assert_eq!(text("\u{7f}\u{85}é\u{10ffff}"), "\u{7f}\u{85}é\u{10ffff}");
    }

    #[test]
    fn elements_nest_one_per_line_and_text_stays_on_its_line() {
        let mut w = Writer::new();
        w.open("a", &[("n", "1")]);
        w.empty("b", &[]);
        w.text("c", &[("m", "<")], "body\nline");
        w.open("d", &[]);
        w.close("d");
        w.close("a");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <a n=\"1\">\n    <b/>\n    <c m=\"&lt;\">body\nline</c>\n    <d>\n    </d>\n</a>\n"
        );
    }
}
