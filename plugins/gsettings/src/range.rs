//! Checking a value against what `gsettings range SCHEMA KEY` says the key takes, so that
//! `bkt gsetting set` refuses a value gsettings would refuse before anything is written.

use crate::gvariant::{self, Value};

/// `Ok` when `value` (GVariant text) fits the key described by `range` (the output of
/// `gsettings range`: `type b`, `range u 0 100`, or `enum`/`flags` followed by one quoted
/// choice a line).
pub fn check(range: &str, value: &str) -> Result<(), String> {
    let parsed = gvariant::parse(value).map_err(|e| {
        format!("{value:?} is not GVariant text: {e}. Strings need quotes inside the argument: \"'dark'\"")
    })?;
    let mut lines = range.lines();
    let head = lines.next().unwrap_or("").trim();
    let choices = || -> Vec<String> {
        range
            .lines()
            .skip(1)
            .map(|l| gvariant::canonical(l.trim()))
            .filter(|l| !l.is_empty())
            .collect()
    };
    if head == "enum" {
        let allowed = choices();
        return match &parsed {
            Value::Str(_) if allowed.contains(&gvariant::canonical(value)) => Ok(()),
            _ => Err(format!("{value} is not one of {}", allowed.join(", "))),
        };
    }
    if head == "flags" {
        let allowed = choices();
        return match &parsed {
            Value::Array(items)
                if items.iter().all(|i| {
                    matches!(i, Value::Str(s) if allowed.contains(&gvariant::canonical(&format!("'{s}'"))))
                }) =>
            {
                Ok(())
            }
            Value::Dict(d) if d.is_empty() => Ok(()),
            _ => Err(format!(
                "{value} is not a list of flags from {}",
                allowed.join(", ")
            )),
        };
    }
    if let Some(rest) = head.strip_prefix("range ") {
        let mut parts = rest.splitn(3, ' ');
        let (ty, min, max) = (parts.next(), parts.next(), parts.next());
        let ty = ty.unwrap_or("");
        fits_type(ty, &parsed, value)?;
        let bound = |t: Option<&str>| t.and_then(|t| gvariant::parse(t).ok());
        if let (Some(Value::Int(lo)), Some(Value::Int(hi)), Value::Int(n)) =
            (bound(min), bound(max), &parsed)
            && !(lo..=hi).contains(n)
        {
            return Err(format!("{value} is outside the key's range {lo}..{hi}"));
        }
        return Ok(());
    }
    match head.strip_prefix("type ") {
        Some(ty) => fits_type(ty.trim(), &parsed, value),
        None => Ok(()),
    }
}

/// Whether a parsed value can be a GVariant of type `ty`. Only the types whose text is
/// unambiguous are checked; containers other than string arrays are left to gsettings.
fn fits_type(ty: &str, v: &Value, text: &str) -> Result<(), String> {
    let int_range = |lo: i128, hi: i128| match v {
        Value::Int(n) if (lo..=hi).contains(n) => Ok(()),
        Value::Int(_) => Err(format!("{text} does not fit the key's type {ty}")),
        _ => Err(format!("{text} is not a number (the key's type is {ty})")),
    };
    match ty {
        "b" => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(format!(
                "{text} is not true or false (the key is a boolean)"
            )),
        },
        "y" => int_range(0, u8::MAX as i128),
        "n" => int_range(i16::MIN as i128, i16::MAX as i128),
        "q" => int_range(0, u16::MAX as i128),
        "i" | "h" => int_range(i32::MIN as i128, i32::MAX as i128),
        "u" => int_range(0, u32::MAX as i128),
        "x" => int_range(i64::MIN as i128, i64::MAX as i128),
        "t" => int_range(0, u64::MAX as i128),
        "d" => match v {
            Value::Float(_) | Value::Int(_) => Ok(()),
            _ => Err(format!("{text} is not a number (the key's type is d)")),
        },
        "s" | "o" | "g" => match v {
            Value::Str(_) => Ok(()),
            _ => Err(format!(
                "{text} is not a string; strings need quotes inside the argument: \"'{text}'\""
            )),
        },
        "as" => match v {
            Value::Array(items) if items.iter().all(|i| matches!(i, Value::Str(_))) => Ok(()),
            Value::Dict(d) if d.is_empty() => Ok(()),
            _ => Err(format!(
                "{text} is not a list of strings (e.g. \"['a', 'b']\")"
            )),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn types_ranges_and_choices() {
        assert!(check("type b\n", "true").is_ok());
        assert!(
            check("type b\n", "5")
                .unwrap_err()
                .contains("true or false")
        );
        assert!(check("type u\n", "-1").is_err());
        assert!(check("type u\n", "uint32 600").is_ok());
        assert!(check("type s\n", "dark").is_err(), "not GVariant text");
        assert!(check("type s\n", "5").unwrap_err().contains("not a string"));
        assert!(check("type as\n", "['a']").is_ok());
        assert!(check("range i 0 10\n", "11").unwrap_err().contains("range"));
        assert!(check("range i 0 10\n", "10").is_ok());
        assert!(check("enum\n'12h'\n'24h'\n", "\"24h\"").is_ok());
        assert!(check("enum\n'12h'\n'24h'\n", "'25h'").is_err());
        assert!(check("flags\n'a'\n'b'\n", "['b']").is_ok());
        assert!(check("flags\n'a'\n'b'\n", "['c']").is_err());
        assert!(check("type a{sv}\n", "@a{sv} {}").is_ok());
    }
}
