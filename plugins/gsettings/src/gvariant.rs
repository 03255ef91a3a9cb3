//! GVariant text format, parsed far enough to compare two values the way GSettings would.
//!
//! `'a'` equals `"a"`, `uint32 5` equals `5`, `@as []` equals `[]`, and whitespace never
//! matters. Type annotations are checked for syntax and then dropped: the key's schema type
//! decides how gsettings stores the value, so two texts that parse to the same tree are the
//! same setting.

use std::fmt;

#[derive(Debug, Clone)]
pub enum Value {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Tuple(Vec<Value>),
    /// One `{k, v}` entry, or a dictionary `{k: v, ...}` (a list of entries).
    Entry(Box<Value>, Box<Value>),
    Dict(Vec<(Value, Value)>),
    Variant(Box<Value>),
    Maybe(Option<Box<Value>>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            // An empty array, dictionary or bytestring are the same text-level "nothing".
            (Array(a), Dict(b)) | (Dict(b), Array(a)) => a.is_empty() && b.is_empty(),
            (Array(a), Bytes(b)) | (Bytes(b), Array(a)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| *x == Int(*y as i128))
            }
            (Array(a), Array(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Entry(k1, v1), Entry(k2, v2)) => k1 == k2 && v1 == v2,
            (Dict(a), Dict(b)) => a == b,
            (Variant(a), Variant(b)) => a == b,
            (Maybe(a), Maybe(b)) => a == b,
            // `just 5` written as a plain `5` for an `m`-typed key.
            (Maybe(Some(a)), b) | (b, Maybe(Some(a))) => **a == *b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.message, self.offset + 1)
    }
}

/// Parses one complete GVariant text value.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    let value = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(value)
}

/// Two values are the same setting.
pub fn same(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// The one text every value equal to `text` shares (under [`same`]): what the host records
/// and compares. Text that does not parse is kept, trimmed.
pub fn canonical(text: &str) -> String {
    match parse(text) {
        Ok(v) => {
            let mut out = String::new();
            write_canonical(&v, &mut out);
            out
        }
        Err(_) => text.trim().to_string(),
    }
}

/// One arm per GVariant type, each writing the form `gsettings` prints: long because the
/// text format has that many cases, and one match keeps them side by side.
fn write_canonical(v: &Value, out: &mut String) {
    use std::fmt::Write;
    let list = |items: &mut dyn Iterator<Item = &Value>, out: &mut String| {
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_canonical(item, out);
        }
    };
    match v {
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        // An integral float equals the integer: both print as the integer.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => {
            let _ = write!(out, "{}", *f as i128);
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Value::Str(s) => {
            out.push('\'');
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("\\'"),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c if c.is_control() => {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('\'');
        }
        // A bytestring equals the array of its bytes; empty arrays and dictionaries are equal.
        Value::Bytes(b) => {
            out.push('[');
            list(
                &mut b
                    .iter()
                    .map(|x| Value::Int(*x as i128))
                    .collect::<Vec<_>>()
                    .iter(),
                out,
            );
            out.push(']');
        }
        Value::Array(items) => {
            out.push('[');
            list(&mut items.iter(), out);
            out.push(']');
        }
        Value::Dict(entries) if entries.is_empty() => out.push_str("[]"),
        Value::Dict(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_canonical(k, out);
                out.push_str(": ");
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Tuple(items) => {
            out.push('(');
            list(&mut items.iter(), out);
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Value::Entry(k, v) => {
            out.push('{');
            write_canonical(k, out);
            out.push_str(", ");
            write_canonical(v, out);
            out.push('}');
        }
        Value::Variant(inner) => {
            out.push('<');
            write_canonical(inner, out);
            out.push('>');
        }
        Value::Maybe(None) => out.push_str("nothing"),
        // `just 5` equals `5`.
        Value::Maybe(Some(inner)) => write_canonical(inner, out),
    }
}

const TYPE_KEYWORDS: &[&str] = &[
    "boolean",
    "byte",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "handle",
    "double",
    "string",
    "objectpath",
    "signature",
];

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
        {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    /// One value of the grammar, chosen by its first character: the recursive-descent
    /// dispatch, kept in one match so the grammar reads in one place.
    fn value(&mut self) -> Result<Value, ParseError> {
        self.ws();
        match self.peek() {
            None => Err(self.err("expected a value")),
            Some(b'\'') | Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'[') => self.array(),
            Some(b'(') => self.tuple(),
            Some(b'{') => self.dict(),
            Some(b'<') => {
                self.pos += 1;
                let inner = self.value()?;
                self.expect(b'>')?;
                Ok(Value::Variant(Box::new(inner)))
            }
            Some(b'@') => {
                self.pos += 1;
                self.type_string()?;
                self.value()
            }
            Some(c) if c == b'-' || c == b'+' || c == b'.' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() => self.keyword(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn keyword(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if (self.peek() == Some(b'b'))
            && matches!(self.s.get(self.pos + 1), Some(b'\'') | Some(b'"'))
        {
            self.pos += 1;
            return Ok(Value::Bytes(self.string()?.into_bytes()));
        }
        let word = self.word().to_string();
        match word.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "nothing" => Ok(Value::Maybe(None)),
            "just" => Ok(Value::Maybe(Some(Box::new(self.value()?)))),
            "inf" => Ok(Value::Float(f64::INFINITY)),
            "nan" => Ok(Value::Float(f64::NAN)),
            w if TYPE_KEYWORDS.contains(&w) => self.value(),
            _ => {
                self.pos = start;
                Err(self.err(&format!("unknown word '{word}' (strings need quotes)")))
            }
        }
    }

    /// A GVariant type string after `@`: checked, then ignored.
    fn type_string(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'a') | Some(b'm') => {
                self.pos += 1;
                self.type_string()
            }
            Some(b'(') => {
                self.pos += 1;
                while self.peek() != Some(b')') {
                    self.type_string()?;
                }
                self.pos += 1;
                Ok(())
            }
            Some(b'{') => {
                self.pos += 1;
                self.type_string()?;
                self.type_string()?;
                if self.peek() != Some(b'}') {
                    return Err(self.err("expected '}' in type"));
                }
                self.pos += 1;
                Ok(())
            }
            Some(c) if b"bynqiuxthdsogv*?r".contains(&c) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err("bad type string after '@'")),
        }
    }

    fn list(&mut self, close: u8) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.value()?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(b',')?;
        }
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.pos += 1;
        Ok(Value::Array(self.list(b']')?))
    }

    fn tuple(&mut self) -> Result<Value, ParseError> {
        self.pos += 1;
        Ok(Value::Tuple(self.list(b')')?))
    }

    fn dict(&mut self) -> Result<Value, ParseError> {
        self.pos += 1;
        if self.eat(b'}') {
            return Ok(Value::Dict(Vec::new()));
        }
        let key = self.value()?;
        if self.eat(b',') {
            let value = self.value()?;
            self.expect(b'}')?;
            return Ok(Value::Entry(Box::new(key), Box::new(value)));
        }
        self.expect(b':')?;
        let mut entries = vec![(key, self.value()?)];
        while !self.eat(b'}') {
            self.expect(b',')?;
            let k = self.value()?;
            self.expect(b':')?;
            entries.push((k, self.value()?));
        }
        Ok(Value::Dict(entries))
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || b"+-.".contains(&self.s[self.pos]))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        let (neg, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let int = if let Some(hex) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            i128::from_str_radix(hex, 16).ok()
        } else if digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().all(|c| c.is_ascii_digit())
        {
            i128::from_str_radix(&digits[1..], 8).ok()
        } else {
            digits.parse::<i128>().ok()
        };
        if let Some(n) = int {
            return Ok(Value::Int(if neg { -n } else { n }));
        }
        match text.parse::<f64>() {
            Ok(f) if digits != "inf" && digits != "nan" => Ok(Value::Float(f)),
            _ => {
                self.pos = start;
                Err(self.err(&format!("'{text}' is not a number")))
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            if c == quote {
                break;
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'u' | b'U' => {
                    let len = if e == b'u' { 4 } else { 8 };
                    let hex = self
                        .s
                        .get(self.pos..self.pos + len)
                        .ok_or_else(|| self.err("short \\u escape"))?;
                    let code = std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.err("bad \\u escape"))?;
                    self.pos += len;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(code.encode_utf8(&mut buf).as_bytes());
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_canonical_text() {
        for (a, b) in [
            ("'24h'", "\"24h\""),
            ("uint32 600", "600"),
            ("@as []", "[]"),
            ("{}", "@a{sv} []"),
            ("[('a', 1)]", "[(\"a\",1)]"),
            ("just 5", "5"),
            ("2.0", "2"),
            ("b'ab'", "[97, 98]"),
            ("'it\\'s'", "\"it's\""),
        ] {
            assert!(same(a, b), "{a} vs {b}");
            assert_eq!(canonical(a), canonical(b), "{a} vs {b}");
        }
        assert_ne!(canonical("'a'"), canonical("'b'"));
        assert_ne!(canonical("1"), canonical("'1'"));
    }

    #[test]
    fn quotes_types_and_whitespace_do_not_matter() {
        assert!(same("'a'", "\"a\""));
        assert!(same("uint32 5", "5"));
        assert!(same("@as []", "[]"));
        assert!(same("['a','b']", "[ 'a', \"b\" ]"));
        assert!(same(
            "[('xkb', 'us'), ('xkb', 'de')]",
            "[('xkb','us'),('xkb','de')]"
        ));
        assert!(same("{'a': <1>}", "{ 'a' : < int32 1 > }"));
        assert!(same("1.0", "1"));
        assert!(same("@a{sv} {}", "{}"));
        assert!(same("@ms nothing", "nothing"));
        assert!(same("'it\\'s'", "\"it's\""));
    }

    #[test]
    fn different_values_differ() {
        assert!(!same("'a'", "'b'"));
        assert!(!same("true", "false"));
        assert!(!same("['a','b']", "['b','a']"));
        assert!(!same("5", "uint32 6"));
        assert!(!same("'5'", "5"));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "dark", "'open", "[1, 2", "(1 2)", "@zz 1", "1 2", "", "{'a': }",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse("0x10").ok(), Some(Value::Int(16)));
        assert_eq!(parse("-3").ok(), Some(Value::Int(-3)));
        assert_eq!(
            parse("int64 -9000000000").ok(),
            Some(Value::Int(-9_000_000_000))
        );
        assert_eq!(parse("2.5e1").ok(), Some(Value::Float(25.0)));
        assert_eq!(parse("byte 0x7f").ok(), Some(Value::Int(127)));
    }
}
