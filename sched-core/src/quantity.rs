//! Exact Kubernetes resource quantities (`resource.Quantity`).
//!
//! A quantity such as `"1.5Gi"`, `"250m"` or `"1e3"` is parsed into an exact
//! decimal number `mantissa × 10^exponent` held in integers, following the
//! rules of upstream `k8s.io/apimachinery/pkg/api/resource/quantity.go`.
//!
//! # Why integer arithmetic
//!
//! The scheduler's filters answer yes/no questions such as "does `requests`
//! fit in `allocatable - used`?". A binary floating point number cannot
//! represent `0.1` or `100m` exactly, and above 2^53 it cannot even represent
//! every integer byte count, so an `f64` pipeline can flip a fit decision by
//! one unit, differently on different inputs or summation orders. Upstream
//! says it plainly: a quantity is "NEVER internally represented by a floating
//! point number". Keeping the value exact also makes canonical strings
//! round-trip byte for byte (`"1536Mi"` → parse → `"1536Mi"`), which reports
//! and golden tests rely on. This module therefore contains no `f32`/`f64`.
//!
//! # Semantics (mirroring upstream)
//!
//! * Grammar: `[+|-] (digits | digits. | .digits | digits.digits) suffix`,
//!   where the suffix is one of the decimal SI suffixes `n u m "" k M G T P E`,
//!   the binary SI suffixes `Ki Mi Gi Ti Pi Ei`, or an exponent `e<int>` /
//!   `E<int>` (the integer may be signed and must lie within
//!   `±2147483647`). Whitespace anywhere is an error, as is the empty string.
//! * Parsing rounds non-zero values *away from zero* to a multiple of
//!   `1n` (10⁻⁹), so `"0.1n"` becomes `1n` and `"-0.1n"` becomes `-1n`.
//! * Binary-suffixed values are capped at `2^63 - 1` in magnitude (so `"8Ei"`
//!   parses as `9223372036854775807`); decimal values are not capped.
//! * A binary-suffixed value strictly between 0 and 1 in magnitude takes the
//!   [`Format::DecimalSI`] format (`"0.000000000001Ki"` is `2n`).
//! * [`Quantity::value`] and [`Quantity::milli_value`] round away from zero
//!   (`"0.5"` → 1, `"-0.5"` → -1) and saturate at `i64::MIN`/`i64::MAX`.
//! * [`Display`](std::fmt::Display) emits upstream's canonical form (see
//!   `CanonicalizeBytes`): no fractional digits, the largest suffix that loses
//!   no precision, decimal exponents a multiple of 3; `BinarySI` is only used
//!   for integers whose magnitude is at least 1024, other values fall back to
//!   `DecimalSI`. A `DecimalSI` exponent beyond `E` is written as `e<n>`.
//!
//! # Deliberate differences from upstream
//!
//! * Upstream accepts strings with no digits at all (`"+"`, `"-"`, `"."`,
//!   `"Ki"`, `"m"`) and treats them as zero; the documented grammar requires a
//!   digit, and so does this parser.
//! * The mantissa is an `i128`: a value that still needs more than 38
//!   significant decimal digits after rounding to nano units is rejected with
//!   [`QuantityError::TooManyDigits`] instead of being held in a big integer.
//!   Binary-suffixed values are capped before that check, so they never fail it.
//! * Upstream's `Value()` and `MilliValue()` can wrap on overflow in some
//!   code paths; here they always saturate.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Result type of this module; the error defaults to [`QuantityError`].
pub type Result<T, E = QuantityError> = std::result::Result<T, E>;

/// The three ways a quantity can be written, remembered from parsing and used
/// again when the quantity is rendered canonically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Decimal SI suffixes: `12M` = 12 × 10⁶, `250m` = 0.25.
    DecimalSI,
    /// Binary SI suffixes: `12Mi` = 12 × 2²⁰.
    BinarySI,
    /// Decimal exponent: `12e6` = 12 × 10⁶.
    DecimalExponent,
}

/// Why a string is not a valid quantity. Every message names the offending
/// input and says what was expected instead.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// The input was the empty string.
    #[error(
        "invalid quantity \"\": empty string; expected a number with an optional suffix, \
         e.g. \"100m\", \"1.5Gi\" or \"1e3\""
    )]
    Empty,
    /// The input contained whitespace (leading, trailing or inside).
    #[error(
        "invalid quantity {input:?}: whitespace is not allowed; expected a number directly \
         followed by an optional suffix, e.g. \"100m\" or \"1.5Gi\""
    )]
    Whitespace {
        /// The whole input.
        input: String,
    },
    /// The numeric part had no digits (`"Ki"`, `"."`, `"abc"`).
    #[error(
        "invalid quantity {input:?}: missing number; expected an optional sign and digits \
         with an optional fraction (\"1\", \"1.5\", \".5\", \"5.\") before the suffix"
    )]
    MissingNumber {
        /// The whole input.
        input: String,
    },
    /// The number had more than one decimal point (`"1.1.M"`).
    #[error(
        "invalid quantity {input:?}: more than one decimal point; expected at most one '.' \
         in the number"
    )]
    MultipleDecimalPoints {
        /// The whole input.
        input: String,
    },
    /// The text after the number is not a known suffix.
    #[error(
        "invalid quantity {input:?}: unknown suffix {suffix:?}; expected one of n, u, m, k, M, \
         G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, an exponent such as e3 or E-6, or no suffix"
    )]
    UnknownSuffix {
        /// The whole input.
        input: String,
        /// The unrecognised text after the number.
        suffix: String,
    },
    /// An `e`/`E` exponent does not fit the range upstream accepts.
    #[error(
        "invalid quantity {input:?}: exponent {exponent:?} is out of range; expected an integer \
         between -2147483647 and 2147483647"
    )]
    ExponentOutOfRange {
        /// The whole input.
        input: String,
        /// The exponent digits as written (with their sign, if any).
        exponent: String,
    },
    /// The value needs more significant digits than the exact representation
    /// holds, even after rounding to nano units.
    #[error(
        "invalid quantity {input:?}: {digits} significant digits after rounding to nano units; \
         expected at most 38"
    )]
    TooManyDigits {
        /// The whole input.
        input: String,
        /// How many significant digits the value needs.
        digits: usize,
    },
}

/// Largest number of significant decimal digits a mantissa may have; every
/// such mantissa (`< 10^38`) fits in an `i128` with room for alignment.
const MAX_DIGITS: usize = 38;
/// Parsing rounds to a multiple of 10^NANO_EXPONENT (one nano unit).
const NANO_EXPONENT: i64 = -9;
/// Largest magnitude of an `e`/`E` exponent upstream accepts (`math.MaxInt32`).
const MAX_WRITTEN_EXPONENT: i64 = i32::MAX as i64;
/// Binary suffixes by power of 1024.
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// An exact resource quantity: `mantissa × 10^exponent` plus the [`Format`] it
/// is rendered in.
///
/// Invariants: the mantissa has no trailing decimal zeros (zero is stored as
/// `0 × 10^0`) and its magnitude is below 10^38, so every value has exactly one
/// representation. Equality, hashing and ordering compare the *value* only and
/// ignore the format, as upstream's `Cmp`/`Equal` do: `"1Ki" == "1024"`.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    mantissa: i128,
    exponent: i64,
    format: Format,
}

/// How the suffix scales the number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Multiply by 10^n.
    Decimal(i64),
    /// Multiply by 2^n.
    Binary(u32),
}

impl Quantity {
    /// Parses a Kubernetes quantity string such as `"100m"`, `"1.5Gi"`,
    /// `"1e3"` or `"-2"`.
    ///
    /// Non-zero values are rounded away from zero to whole nano units and
    /// binary-suffixed values are capped at `2^63 - 1` in magnitude, as
    /// upstream's `ParseQuantity` does. Never panics.
    pub fn parse(s: &str) -> Result<Quantity> {
        if s.is_empty() {
            return Err(QuantityError::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(QuantityError::Whitespace {
                input: s.to_owned(),
            });
        }
        let bytes = s.as_bytes();
        let (negative, mut pos) = match bytes[0] {
            b'-' => (true, 1),
            b'+' => (false, 1),
            _ => (false, 0),
        };
        let int_start = pos;
        pos += leading_digits(&bytes[pos..]);
        let int_part = &bytes[int_start..pos];
        let mut frac_part: &[u8] = &[];
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            let frac_start = pos;
            pos += leading_digits(&bytes[pos..]);
            frac_part = &bytes[frac_start..pos];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(QuantityError::MissingNumber {
                input: s.to_owned(),
            });
        }
        if bytes.get(pos) == Some(&b'.') {
            return Err(QuantityError::MultipleDecimalPoints {
                input: s.to_owned(),
            });
        }
        // Everything before `pos` is ASCII, so this is a char boundary.
        let (scale, mut format) = interpret_suffix(s, &s[pos..])?;

        // Exact decimal digits, most significant first; value = digits × 10^exponent.
        let mut digits: Vec<u8> = int_part.iter().chain(frac_part).map(|c| c - b'0').collect();
        let mut exponent = -len_i64(frac_part.len());
        if let Scale::Decimal(e) = scale {
            exponent += e;
        }
        let first_nonzero = digits.iter().position(|&d| d != 0);
        match first_nonzero {
            None => {
                return Ok(Quantity {
                    mantissa: 0,
                    exponent: 0,
                    format,
                });
            }
            Some(n) => {
                digits.drain(..n);
            }
        }
        exponent += strip_trailing_zeros(&mut digits);

        if let Scale::Binary(bits) = scale {
            for _ in 0..bits / 10 {
                mul_small(&mut digits, 1024);
            }
            exponent += strip_trailing_zeros(&mut digits);
            if exceeds_i64_max(&digits, exponent) {
                digits = i64::MAX.to_string().bytes().map(|c| c - b'0').collect();
                exponent = 0;
            }
        }

        round_up_to_nano(&mut digits, &mut exponent);
        exponent += strip_trailing_zeros(&mut digits);
        if digits.len() > MAX_DIGITS {
            return Err(QuantityError::TooManyDigits {
                input: s.to_owned(),
                digits: digits.len(),
            });
        }
        if format == Format::BinarySI && len_i64(digits.len()) + exponent <= 0 {
            // 0 < |value| < 1: upstream switches to DecimalSI to avoid rounding.
            format = Format::DecimalSI;
        }
        let magnitude = digits
            .iter()
            .fold(0i128, |acc, &d| acc * 10 + i128::from(d));
        Ok(Quantity {
            mantissa: if negative { -magnitude } else { magnitude },
            exponent,
            format,
        })
    }

    /// The value in thousandths (`ceil(q × 1000)` away from zero), like
    /// upstream `MilliValue`: `"0.1m"` → 1, `"1.5"` → 1500. Saturates at
    /// `i64::MIN`/`i64::MAX` instead of overflowing.
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// The value rounded away from zero to an integer, like upstream `Value`:
    /// `"1.5Gi"` → 1610612736, `"0.5"` → 1, `"100m"` → 1, `"-0.5"` → -1.
    /// Saturates at `i64::MIN`/`i64::MAX` instead of overflowing.
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `milli / 1000` in the given format, like upstream `NewMilliQuantity`.
    pub fn from_milli(milli: i64, format: Format) -> Quantity {
        Quantity::from_parts(i128::from(milli), -3, format)
    }

    /// `value` in the given format, like upstream `NewQuantity`.
    pub fn from_value(value: i64, format: Format) -> Quantity {
        Quantity::from_parts(i128::from(value), 0, format)
    }

    /// The format this quantity is rendered in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// Whether the value is below zero (`"-1m"` is; `"-0"` is not).
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// Builds a normalised quantity from a small mantissa (`|m| < 10^38`).
    fn from_parts(mut mantissa: i128, mut exponent: i64, format: Format) -> Quantity {
        if mantissa == 0 {
            return Quantity {
                mantissa: 0,
                exponent: 0,
                format,
            };
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        Quantity {
            mantissa,
            exponent,
            format,
        }
    }

    /// `ceil(q / 10^scale)` rounded away from zero, saturating to `i64`.
    fn scaled_value(&self, scale: i64) -> i64 {
        let m = self.mantissa;
        if m == 0 {
            return 0;
        }
        let saturated = if m > 0 { i64::MAX } else { i64::MIN };
        let shift = self.exponent.saturating_sub(scale);
        let result = if shift >= 0 {
            // |m| >= 1, so 10^39 or more can never fit in an i64.
            match u32::try_from(shift)
                .ok()
                .filter(|&s| s <= 38)
                .and_then(|s| m.checked_mul(10i128.pow(s)))
            {
                Some(v) => v,
                None => return saturated,
            }
        } else {
            match u32::try_from(shift.unsigned_abs())
                .ok()
                .filter(|&s| s <= 38)
            {
                Some(s) => {
                    let divisor = 10i128.pow(s);
                    let (q, r) = (m / divisor, m % divisor);
                    if r == 0 { q } else { q + m.signum() }
                }
                // |m| < 10^38 <= divisor: only the rounding unit is left.
                None => m.signum(),
            }
        };
        i64::try_from(result).unwrap_or(saturated)
    }

    /// `|value|` as an integer when the value is integral and fits in a `u128`.
    fn integer_magnitude(&self) -> Option<u128> {
        let shift = u32::try_from(self.exponent).ok()?;
        if shift > 38 {
            return None;
        }
        self.mantissa.unsigned_abs().checked_mul(10u128.pow(shift))
    }

    /// Upstream's canonical string (`CanonicalizeBytes` + suffix).
    fn canonical(&self) -> String {
        if self.mantissa == 0 {
            return "0".to_owned();
        }
        let mut out = String::new();
        if self.mantissa < 0 {
            out.push('-');
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            match self.integer_magnitude() {
                Some(v) if v >= 1024 => {
                    let (mut rest, mut power) = (v, 0usize);
                    while rest % 1024 == 0 {
                        rest /= 1024;
                        power += 1;
                    }
                    if let Some(suffix) = BINARY_SUFFIXES.get(power) {
                        out.push_str(&rest.to_string());
                        out.push_str(suffix);
                        return out;
                    }
                    // Beyond Ei there is no binary suffix; stay exact in decimal.
                    format = Format::DecimalExponent;
                }
                // |value| < 1024 or fractional: don't round, show as DecimalSI.
                _ => format = Format::DecimalSI,
            }
        }
        // Lower the exponent to a multiple of 3, growing the mantissa with zeros.
        let pad = self.exponent.rem_euclid(3);
        let exponent = self.exponent - pad;
        out.push_str(&self.mantissa.unsigned_abs().to_string());
        for _ in 0..pad {
            out.push('0');
        }
        match (format, decimal_suffix(exponent)) {
            (Format::DecimalSI, Some(suffix)) => out.push_str(suffix),
            _ if exponent == 0 => {}
            _ => {
                out.push('e');
                out.push_str(&exponent.to_string());
            }
        }
        out
    }
}

impl Default for Quantity {
    /// Zero, in [`Format::DecimalSI`].
    fn default() -> Self {
        Quantity::from_value(0, Format::DecimalSI)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Quantity> {
        Quantity::parse(s)
    }
}

impl fmt::Display for Quantity {
    /// Upstream's canonical form: `"3500m"`, `"8"`, `"12Gi"`, `"1536Mi"`,
    /// `"1500M"`, `"1e3"`. Honours width/alignment flags (`{:>8}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.canonical())
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        // Normalised representation: equal values have equal parts.
        self.mantissa == other.mantissa && self.exponent == other.exponent
    }
}

impl Eq for Quantity {}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mantissa.hash(state);
        self.exponent.hash(state);
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.mantissa, other.mantissa);
        match a.signum().cmp(&b.signum()) {
            Ordering::Equal if a == 0 => Ordering::Equal,
            Ordering::Equal => {
                let magnitude = cmp_magnitude(
                    a.unsigned_abs(),
                    self.exponent,
                    b.unsigned_abs(),
                    other.exponent,
                );
                if a > 0 {
                    magnitude
                } else {
                    magnitude.reverse()
                }
            }
            unequal => unequal,
        }
    }
}

/// A cpu amount in milli-cores rendered canonically (`3500` → `"3500m"`,
/// `8000` → `"8"`, `0` → `"0"`).
pub fn format_milli_cpu(milli: i64) -> String {
    Quantity::from_milli(milli, Format::DecimalSI).to_string()
}

/// A byte count rendered canonically in [`Format::BinarySI`]: `"12Gi"`,
/// `"1536Mi"`, `"1500"` when not a multiple of 1024. As upstream, counts below
/// 1024 use `DecimalSI`, so `1000` renders as `"1k"` and `512` as `"512"`.
pub fn format_bytes(bytes: i64) -> String {
    Quantity::from_value(bytes, Format::BinarySI).to_string()
}

/// A plain count (pods, GPUs, ...) rendered as a plain integer: `110`, never
/// `"1k"` for 1000.
pub fn format_count(n: i64) -> String {
    n.to_string()
}

/// Number of leading ASCII digits.
fn leading_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// A length as `i64` (lengths of in-memory strings always fit).
fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// Decodes the suffix after the number into its scale and format.
fn interpret_suffix(input: &str, suffix: &str) -> Result<(Scale, Format)> {
    use Format::{BinarySI, DecimalExponent, DecimalSI};
    let found = match suffix {
        "" => (Scale::Decimal(0), DecimalSI),
        "n" => (Scale::Decimal(-9), DecimalSI),
        "u" => (Scale::Decimal(-6), DecimalSI),
        "m" => (Scale::Decimal(-3), DecimalSI),
        "k" => (Scale::Decimal(3), DecimalSI),
        "M" => (Scale::Decimal(6), DecimalSI),
        "G" => (Scale::Decimal(9), DecimalSI),
        "T" => (Scale::Decimal(12), DecimalSI),
        "P" => (Scale::Decimal(15), DecimalSI),
        "E" => (Scale::Decimal(18), DecimalSI),
        "Ki" => (Scale::Binary(10), BinarySI),
        "Mi" => (Scale::Binary(20), BinarySI),
        "Gi" => (Scale::Binary(30), BinarySI),
        "Ti" => (Scale::Binary(40), BinarySI),
        "Pi" => (Scale::Binary(50), BinarySI),
        "Ei" => (Scale::Binary(60), BinarySI),
        _ => {
            let unknown = || QuantityError::UnknownSuffix {
                input: input.to_owned(),
                suffix: suffix.to_owned(),
            };
            let written = suffix.strip_prefix(['e', 'E']).ok_or_else(unknown)?;
            let (negative, magnitude) = match written.as_bytes().first() {
                Some(b'-') => (true, &written[1..]),
                Some(b'+') => (false, &written[1..]),
                _ => (false, written),
            };
            if magnitude.is_empty() || !magnitude.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unknown());
            }
            let value = magnitude
                .bytes()
                .try_fold(0i64, |acc, b| {
                    acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
                })
                .filter(|&v| v <= MAX_WRITTEN_EXPONENT)
                .ok_or_else(|| QuantityError::ExponentOutOfRange {
                    input: input.to_owned(),
                    exponent: written.to_owned(),
                })?;
            (
                Scale::Decimal(if negative { -value } else { value }),
                DecimalExponent,
            )
        }
    };
    Ok(found)
}

/// Removes trailing zero digits and returns how many were removed.
fn strip_trailing_zeros(digits: &mut Vec<u8>) -> i64 {
    let zeros = digits.iter().rev().take_while(|&&d| d == 0).count();
    // Keep at least one digit so a zero value stays representable.
    let zeros = zeros.min(digits.len().saturating_sub(1));
    digits.truncate(digits.len() - zeros);
    len_i64(zeros)
}

/// Multiplies a big-endian decimal digit string by a small factor, exactly.
fn mul_small(digits: &mut Vec<u8>, factor: u32) {
    let mut carry = 0u32;
    for d in digits.iter_mut().rev() {
        let v = u32::from(*d) * factor + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    let mut head = Vec::new();
    while carry > 0 {
        head.push((carry % 10) as u8);
        carry /= 10;
    }
    head.reverse();
    digits.splice(0..0, head);
}

/// Whether `digits × 10^exponent` (no leading or trailing zeros) is greater
/// than `i64::MAX`, upstream's cap for binary-suffixed values.
fn exceeds_i64_max(digits: &[u8], exponent: i64) -> bool {
    let integer_len = len_i64(digits.len()) + exponent;
    match integer_len.cmp(&19) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => {
            // 19 integer digits: compare the integer part; any fraction tips
            // a value equal to i64::MAX over the cap.
            let integer: u128 = (0..19).fold(0u128, |acc, i| {
                acc * 10 + u128::from(digits.get(i).copied().unwrap_or(0))
            });
            let has_fraction = digits.len() > 19;
            integer > i64::MAX as u128 || (integer == i64::MAX as u128 && has_fraction)
        }
    }
}

/// Rounds `digits × 10^exponent` away from zero to a multiple of 10⁻⁹.
/// `digits` has no trailing zeros, so dropping any digit drops a non-zero one.
fn round_up_to_nano(digits: &mut Vec<u8>, exponent: &mut i64) {
    if *exponent >= NANO_EXPONENT {
        return;
    }
    let drop = NANO_EXPONENT.saturating_sub(*exponent);
    let keep = usize::try_from(len_i64(digits.len()).saturating_sub(drop)).unwrap_or(0);
    *exponent = NANO_EXPONENT;
    if keep == 0 {
        digits.clear();
        digits.push(1);
        return;
    }
    digits.truncate(keep);
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// The decimal SI suffix for an exponent that is a multiple of 3, if any.
fn decimal_suffix(exponent: i64) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// Number of decimal digits of a non-zero value.
fn digit_count(mut v: u128) -> i64 {
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

/// Compares `ma × 10^ea` with `mb × 10^eb` for non-zero mantissas below 10^38.
fn cmp_magnitude(ma: u128, ea: i64, mb: u128, eb: i64) -> Ordering {
    let (la, lb) = (digit_count(ma), digit_count(mb));
    // Position of the leading digit decides unless it is the same.
    match (la + ea).cmp(&(lb + eb)) {
        Ordering::Equal => {}
        unequal => return unequal,
    }
    // Same leading position: pad the shorter mantissa to the longer one's
    // length (at most 38 digits, which fits in a u128) and compare digits.
    let pad = |v: u128, by: i64| v * 10u128.pow(u32::try_from(by).unwrap_or(0));
    if la < lb {
        pad(ma, lb - la).cmp(&mb)
    } else {
        ma.cmp(&pad(mb, la - lb))
    }
}

#[cfg(test)]
mod tests {
    use super::Format::{BinarySI, DecimalExponent, DecimalSI};
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    /// (input, canonical Display, format after parsing)
    const PARSE_OK: &[(&str, &str, Format)] = &[
        ("0", "0", DecimalSI),    // upstream: TestQuantityParse, TestQuantityParseZero
        ("0n", "0", DecimalSI),   // upstream: TestQuantityParse
        ("0u", "0", DecimalSI),   // upstream: TestQuantityParse
        ("0m", "0", DecimalSI),   // upstream: TestQuantityParse
        ("0Ki", "0", BinarySI),   // upstream: TestQuantityParse
        ("0k", "0", DecimalSI),   // upstream: TestQuantityParse
        ("0Mi", "0", BinarySI),   // upstream: TestQuantityParse
        ("0Ti", "0", BinarySI),   // upstream: TestQuantityParse
        ("-0", "0", DecimalSI),   // upstream: TestQuantityParse (negated "0" row)
        ("+0.0", "0", DecimalSI), // upstream: TestQuantityParse (explicit "+" pass)
        ("1", "1", DecimalSI),    // upstream: TestQuantityParse "Quantity less numbers"
        ("1Ki", "1Ki", BinarySI), // upstream: TestQuantityParse, TestQuantityParseEmit
        ("8Ki", "8Ki", BinarySI), // upstream: TestQuantityParse
        ("7Mi", "7Mi", BinarySI), // upstream: TestQuantityParse
        ("6Gi", "6Gi", BinarySI), // upstream: TestQuantityParse
        ("5Ti", "5Ti", BinarySI), // upstream: TestQuantityParse
        ("4Pi", "4Pi", BinarySI), // upstream: TestQuantityParse
        ("3Ei", "3Ei", BinarySI), // upstream: TestQuantityParse
        ("10Ti", "10Ti", BinarySI), // upstream: TestQuantityParse
        ("100Ti", "100Ti", BinarySI), // upstream: TestQuantityParse
        ("5n", "5n", DecimalSI),  // upstream: TestQuantityParse
        ("4u", "4u", DecimalSI),  // upstream: TestQuantityParse
        ("3m", "3m", DecimalSI),  // upstream: TestQuantityParse
        ("9", "9", DecimalSI),    // upstream: TestQuantityParse
        ("8k", "8k", DecimalSI),  // upstream: TestQuantityParse
        ("50k", "50k", DecimalSI), // upstream: TestQuantityParse
        ("7M", "7M", DecimalSI),  // upstream: TestQuantityParse
        ("6G", "6G", DecimalSI),  // upstream: TestQuantityParse
        ("5T", "5T", DecimalSI),  // upstream: TestQuantityParse
        ("40T", "40T", DecimalSI), // upstream: TestQuantityParse
        ("300T", "300T", DecimalSI), // upstream: TestQuantityParse
        ("2P", "2P", DecimalSI),  // upstream: TestQuantityParse
        ("1E", "1E", DecimalSI),  // upstream: TestQuantityParse
        ("12E", "12E", DecimalSI), // upstream: TestQuantityParse
        ("1E-3", "1e-3", DecimalExponent), // upstream: TestQuantityParse
        ("1e3", "1e3", DecimalExponent), // upstream: TestQuantityParse
        ("1E6", "1e6", DecimalExponent), // upstream: TestQuantityParse
        ("1e9", "1e9", DecimalExponent), // upstream: TestQuantityParse
        ("1E12", "1e12", DecimalExponent), // upstream: TestQuantityParse
        ("1e15", "1e15", DecimalExponent), // upstream: TestQuantityParse
        ("1E18", "1e18", DecimalExponent), // upstream: TestQuantityParse
        ("1e14", "100e12", DecimalExponent), // upstream: TestQuantityParse "Nonstandard"
        ("1e13", "10e12", DecimalExponent), // upstream: TestQuantityParse "Nonstandard"
        ("100.035k", "100035", DecimalSI), // upstream: TestQuantityParse "Nonstandard"
        ("0.001", "1m", DecimalSI), // upstream: TestQuantityParse "look like floating point"
        ("0.0005k", "500m", DecimalSI), // upstream: TestQuantityParse
        ("0.005", "5m", DecimalSI), // upstream: TestQuantityParse
        ("0.05", "50m", DecimalSI), // upstream: TestQuantityParse
        ("0.5", "500m", DecimalSI), // upstream: TestQuantityParse
        ("0.00050k", "500m", DecimalSI), // upstream: TestQuantityParse
        ("0.00500", "5m", DecimalSI), // upstream: TestQuantityParse
        ("0.50000", "500m", DecimalSI), // upstream: TestQuantityParse
        ("0.5e0", "500e-3", DecimalExponent), // upstream: TestQuantityParse
        ("0.5e-1", "50e-3", DecimalExponent), // upstream: TestQuantityParse
        ("0.5e-2", "5e-3", DecimalExponent), // upstream: TestQuantityParse
        ("10.035M", "10035k", DecimalSI), // upstream: TestQuantityParse
        ("1.2e3", "1200", DecimalExponent), // upstream: TestQuantityParse
        ("1.3E+6", "1300e3", DecimalExponent), // upstream: TestQuantityParse
        ("1.40e9", "1400e6", DecimalExponent), // upstream: TestQuantityParse
        ("1.53E12", "1530e9", DecimalExponent), // upstream: TestQuantityParse
        ("1.7E18", "1700e15", DecimalExponent), // upstream: TestQuantityParse
        ("9.01", "9010m", DecimalSI), // upstream: TestQuantityParse, TestQuantityNeg
        ("8.1k", "8100", DecimalSI), // upstream: TestQuantityParse
        ("7.123456M", "7123456", DecimalSI), // upstream: TestQuantityParse
        ("6.987654321G", "6987654321", DecimalSI), // upstream: TestQuantityParse
        ("5.444T", "5444G", DecimalSI), // upstream: TestQuantityParse
        ("40.1T", "40100G", DecimalSI), // upstream: TestQuantityParse
        ("2.5P", "2500T", DecimalSI), // upstream: TestQuantityParse
        ("1.01E", "1010P", DecimalSI), // upstream: TestQuantityParse
        ("3.001n", "4n", DecimalSI), // upstream: TestQuantityParse "saturate/round"
        ("1.1E-9", "2e-9", DecimalExponent), // upstream: TestQuantityParse
        ("0.0000000001", "1n", DecimalSI), // upstream: TestQuantityParse
        ("0.0000000005", "1n", DecimalSI), // upstream: TestQuantityParse
        ("0.00000000050", "1n", DecimalSI), // upstream: TestQuantityParse
        ("0.5e-9", "1e-9", DecimalExponent), // upstream: TestQuantityParse
        ("0.9n", "1n", DecimalSI), // upstream: TestQuantityParse
        ("0.00000012345", "124n", DecimalSI), // upstream: TestQuantityParse
        ("0.00000012354", "124n", DecimalSI), // upstream: TestQuantityParse
        ("9Ei", "9223372036854775807", BinarySI), // upstream: TestQuantityParse (maxAllowed)
        ("9223372036854775807Ki", "9223372036854775807", BinarySI), // upstream: TestQuantityParse
        ("8Ei", "9223372036854775807", BinarySI), // upstream: TestZeroSubMostNegativeInheritsFormat (#140674 cap)
        ("-8Ei", "-9223372036854775807", BinarySI), // upstream: TestQuantityParse (negated cap)
        ("100.035Ki", "102435840m", BinarySI),    // upstream: TestQuantityParse "fractional binary"
        ("0.5Mi", "512Ki", BinarySI),             // upstream: TestQuantityParse
        ("0.05Gi", "53687091200m", BinarySI),     // upstream: TestQuantityParse
        ("0.025Ti", "27487790694400m", BinarySI), // upstream: TestQuantityParse, TestParseQuantityString
        ("-1.025Ti", "-1126999418470400m", BinarySI), // upstream: TestParseQuantityString
        ("0.000000000001Ki", "2n", DecimalSI),    // upstream: TestQuantityParse "trolls"
        (".001", "1m", DecimalSI),                // upstream: TestQuantityParse "trolls"
        (".0001k", "100m", DecimalSI),            // upstream: TestQuantityParse "trolls"
        ("1.", "1", DecimalSI),                   // upstream: TestQuantityParse "trolls"
        ("1.G", "1G", DecimalSI),                 // upstream: TestQuantityParse "trolls"
        ("1024Mi", "1Gi", BinarySI),              // upstream: TestQuantityParseEmit
        ("1000M", "1G", DecimalSI),               // upstream: TestQuantityParseEmit
        (".001Ki", "1024m", BinarySI),            // upstream: TestQuantityParseEmit
        (".000001Ki", "1024u", DecimalSI),        // upstream: TestQuantityParseEmit
        (".000000001Ki", "1024n", DecimalSI),     // upstream: TestQuantityParseEmit
        (".000000000001Ki", "2n", DecimalSI),     // upstream: TestQuantityParseEmit
        ("-1024Mi", "-1Gi", BinarySI),            // upstream: TestQuantityParseEmit (negated pass)
        ("1000E", "1e21", DecimalSI),             // upstream: TestQuantityString (no suffix past E)
        ("5000E", "5e21", DecimalSI),             // upstream: TestQuantityString
        ("999999999999999999.1", "999999999999999999100m", DecimalSI), // upstream: TestParseQuantity
        ("9999999999999999999", "9999999999999999999", DecimalSI), // upstream: TestParseQuantity
        ("1000000000000000000.0", "1E", DecimalSI),                // upstream: TestParseQuantity
        ("10000000000000000000000m", "10E", DecimalSI),            // upstream: TestParseQuantity
        (
            "1.0000000000000000001E",
            "1000000000000000000100m",
            DecimalSI,
        ), // upstream: TestParseQuantity
        (
            "-10.000000000000000001E",
            "-10000000000000000001",
            DecimalSI,
        ), // upstream: TestParseQuantity
        ("-9223372036854775808", "-9223372036854775808", DecimalSI), // upstream: TestParseQuantity
        ("9223372036854775807000m", "9223372036854775807", DecimalSI), // upstream: TestParseQuantity
        (
            "-9223372036854775809.1",
            "-9223372036854775809100m",
            DecimalSI,
        ), // upstream: TestParseQuantity
        ("-.484785E-7466", "-1e-9", DecimalExponent), // upstream: TestNegativeValueRoundsAwayFromZero
        ("1E2147483647", "10e2147483646", DecimalExponent), // upstream: TestInterpretExponentInt32Bounds
        ("1E-2147483647", "1e-9", DecimalExponent), // upstream: TestInterpretExponentInt32Bounds
        ("1e007", "10e6", DecimalExponent),         // upstream: interpret uses strconv.ParseInt
        ("1.5Gi", "1536Mi", BinarySI), // upstream: Quantity doc comment ("1.5Gi" -> "1536Mi")
        ("1.5", "1500m", DecimalSI),   // upstream: Quantity doc comment ("1.5" -> "1500m")
        ("3500m", "3500m", DecimalSI), // upstream: TestQuantityString (canonical kept)
        ("12Gi", "12Gi", BinarySI),    // upstream: TestQuantityString (canonical kept)
        ("1500M", "1500M", DecimalSI), // upstream: TestQuantityString (canonical kept)
        ("0.1m", "100u", DecimalSI), // upstream: Quantity doc comment ("0.1m" rounds to nano grid)
        ("1500", "1500", DecimalSI), // upstream: TestQuantityString
        (
            "1234567890123456789012345678901234567890Ki",
            "9223372036854775807",
            BinarySI,
        ), // upstream: TestQuantityParse (cap beats digit limit)
    ];

    #[test]
    fn parse_table() {
        for &(input, canonical, format) in PARSE_OK {
            let got = q(input);
            assert_eq!(got.to_string(), canonical, "Display of {input:?}");
            assert_eq!(got.format(), format, "format of {input:?}");
            // Canonical strings are parse-stable (upstream: TestQuantityString
            // "did not copy canonical string on parse").
            let again = q(canonical);
            assert_eq!(again, got, "value of {canonical:?} vs {input:?}");
            assert_eq!(again.to_string(), canonical, "re-Display of {canonical:?}");
        }
    }

    #[test]
    fn parse_table_negated_and_plus() {
        // upstream: TestQuantityParse "Try the negative version of everything"
        // and "Try everything with an explicit +".
        for &(input, canonical, format) in PARSE_OK {
            if input.starts_with(['-', '+']) {
                continue;
            }
            let plain = q(input);
            let plus = q(&format!("+{input}"));
            assert_eq!(plus, plain, "+{input}");
            assert_eq!(plus.format(), format, "+{input}");
            let minus = q(&format!("-{input}"));
            assert_eq!(minus.format(), format, "-{input}");
            let expected = if plain.is_zero() {
                "0".to_owned()
            } else {
                format!("-{canonical}")
            };
            assert_eq!(minus.to_string(), expected, "-{input}");
        }
    }

    #[derive(Debug)]
    enum Kind {
        Empty,
        Whitespace,
        MissingNumber,
        MultipleDecimalPoints,
        UnknownSuffix(&'static str),
        ExponentOutOfRange,
        TooManyDigits,
    }

    const PARSE_ERR: &[(&str, Kind)] = &[
        ("", Kind::Empty), // upstream: TestQuantityParse (empty string)
        ("1.1.M", Kind::MultipleDecimalPoints), // upstream: TestQuantityParse invalid
        ("1+1.0M", Kind::UnknownSuffix("+1.0M")), // upstream: TestQuantityParse invalid
        ("0.1mi", Kind::UnknownSuffix("mi")), // upstream: TestQuantityParse invalid
        ("0.1am", Kind::UnknownSuffix("am")), // upstream: TestQuantityParse invalid
        ("aoeu", Kind::MissingNumber), // upstream: TestQuantityParse invalid
        (".5i", Kind::UnknownSuffix("i")), // upstream: TestQuantityParse invalid
        ("1i", Kind::UnknownSuffix("i")), // upstream: TestQuantityParse invalid
        ("-3.01i", Kind::UnknownSuffix("i")), // upstream: TestQuantityParse invalid
        ("-3.01e-", Kind::UnknownSuffix("e-")), // upstream: TestQuantityParse invalid
        ("1e4294967297", Kind::ExponentOutOfRange), // upstream: TestQuantityParse invalid
        (" 1", Kind::Whitespace), // upstream: TestQuantityParse invalid
        ("1 ", Kind::Whitespace), // upstream: TestQuantityParse invalid
        ("1 Gi", Kind::Whitespace), // upstream: TestQuantityParse invalid (whitespace)
        ("1E2147483648", Kind::ExponentOutOfRange), // upstream: TestInterpretExponentInt32Bounds
        ("1E-2147483648", Kind::ExponentOutOfRange), // upstream: TestInterpretExponentInt32Bounds
        ("1E8589934592", Kind::ExponentOutOfRange), // upstream: TestInterpretExponentInt32Bounds
        ("1E9223372036854775807", Kind::ExponentOutOfRange), // upstream: TestInterpretExponentInt32Bounds
        ("1E9223372036854775808", Kind::ExponentOutOfRange), // upstream: TestInterpretExponentInt32Bounds
        ("Non-Numeric", Kind::MissingNumber), // upstream: TestQuantityParseNonNumericPanic
        ("invalid", Kind::MissingNumber),     // upstream: TestQuantityValueSet
        ("12x", Kind::UnknownSuffix("x")),    // upstream: TestQuantityParse invalid (bad suffix)
        ("1K", Kind::UnknownSuffix("K")),     // upstream: suffix.go has no "K" (kilo is "k")
        ("1ki", Kind::UnknownSuffix("ki")), // upstream: suffix.go binary suffixes are case-sensitive
        ("1e", Kind::UnknownSuffix("e")),   // upstream: interpret requires len(s) > 1
        ("1E+", Kind::UnknownSuffix("E+")), // upstream: strconv.ParseInt("+") fails
        ("1e1.5", Kind::UnknownSuffix("e1.5")), // upstream: parseQuantityString ErrFormatWrong
        ("1Ee3", Kind::UnknownSuffix("Ee3")), // upstream: strconv.ParseInt("e3") fails
        ("1Ki3", Kind::UnknownSuffix("Ki3")), // upstream: interpret fails
        ("1µ", Kind::UnknownSuffix("µ")),   // upstream: parseQuantityString ErrFormatWrong
        ("+", Kind::MissingNumber), // deviation: upstream parses as 0 (TestParseQuantityString)
        ("-", Kind::MissingNumber), // deviation: upstream parses as 0
        (".", Kind::MissingNumber), // deviation: upstream parses as 0 (TestParseQuantityString)
        ("-.", Kind::MissingNumber), // deviation: upstream parses as 0 (TestParseQuantityString)
        ("Ki", Kind::MissingNumber), // deviation: upstream parses as 0
        ("m", Kind::MissingNumber), // deviation: upstream parses as 0
        ("+-1", Kind::MissingNumber), // upstream: TestQuantityParse invalid (sign then suffix)
        (
            "1234567890123456789012345678901234567890",
            Kind::TooManyDigits,
        ), // deviation: upstream keeps a big.Int
    ];

    #[test]
    fn parse_errors() {
        for (input, kind) in PARSE_ERR {
            let err = Quantity::parse(input).expect_err(input);
            let ok = match (kind, &err) {
                (Kind::Empty, QuantityError::Empty) => true,
                (Kind::Whitespace, QuantityError::Whitespace { input: i })
                | (Kind::MissingNumber, QuantityError::MissingNumber { input: i })
                | (
                    Kind::MultipleDecimalPoints,
                    QuantityError::MultipleDecimalPoints { input: i },
                )
                | (Kind::ExponentOutOfRange, QuantityError::ExponentOutOfRange { input: i, .. })
                | (Kind::TooManyDigits, QuantityError::TooManyDigits { input: i, .. }) => {
                    i == input
                }
                (Kind::UnknownSuffix(s), QuantityError::UnknownSuffix { input: i, suffix }) => {
                    i == input && suffix == s
                }
                _ => false,
            };
            assert!(ok, "{input:?}: expected {kind:?}, got {err:?}");
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("invalid quantity {input:?}: ")),
                "{message}"
            );
            assert!(message.contains("expected"), "{message}");
        }
    }

    #[test]
    fn error_messages_name_input_and_expectation() {
        // upstream: TestQuantityParse invalid rows (messages are ours, not upstream's)
        let err = Quantity::parse("12x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid quantity \"12x\": unknown suffix \"x\"; expected one of n, u, m, k, M, G, \
             T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, an exponent such as e3 or E-6, or no suffix"
        );
        assert_eq!(
            Quantity::parse("").unwrap_err().to_string(),
            "invalid quantity \"\": empty string; expected a number with an optional suffix, \
             e.g. \"100m\", \"1.5Gi\" or \"1e3\""
        );
        assert!(matches!(
            "1e99999999999999999999".parse::<Quantity>(),
            Err(QuantityError::ExponentOutOfRange { exponent, .. }) if exponent == "99999999999999999999"
        ));
    }

    /// (input, value(), milli_value())
    const VALUES: &[(&str, i64, i64)] = &[
        ("1.5Gi", 1_610_612_736, 1_610_612_736_000), // upstream: Quantity doc comment (1.5Gi = 1536Mi), Value()
        ("0.5", 1, 500),  // upstream: TestQuantityRoundUp (rounds up, away from zero)
        ("100m", 1, 100), // upstream: TestScaledValue {Milli, 0, 1}
        ("0.1m", 1, 1),   // upstream: Quantity doc "0.1m will rounded up to 1m"
        ("-0.1m", -1, -1), // upstream: TestNegativeValueRoundsAwayFromZero
        ("1n", 1, 1),     // upstream: TestScaledValue {Nano, Milli, 1}, {Nano, 0, 1}
        ("1u", 1, 1),     // upstream: TestScaledValue {Micro, Milli, 1}, {Micro, 0, 1}
        ("1m", 1, 1),     // upstream: TestScaledValue {Milli, Milli, 1}, {Milli, 0, 1}
        ("1", 1, 1000),   // upstream: TestScaledValue {0, Milli, 1000}
        ("-1", -1, -1000), // upstream: TestNegativeValueRoundsAwayFromZero
        ("0", 0, 0),      // upstream: TestNegativeValueRoundsAwayFromZero
        ("-.484785E-7466", -1, -1), // upstream: TestNegativeValueRoundsAwayFromZero
        (".484785E-7466", 1, 1), // upstream: TestNegativeValueRoundsAwayFromZero
        ("-.484785E-1", -1, -49), // upstream: TestNegativeValueRoundsAwayFromZero
        (".484785E-1", 1, 49), // upstream: TestNegativeValueRoundsAwayFromZero
        ("-0.0005", -1, -1), // upstream: TestNegativeValueRoundsAwayFromZero
        ("0.0005", 1, 1), // upstream: TestNegativeValueRoundsAwayFromZero
        ("-1500m", -2, -1500), // upstream: TestNegativeValueRoundsAwayFromZero
        ("1500m", 2, 1500), // upstream: TestNegativeValueRoundsAwayFromZero
        ("-9.5000000001Gi", -10_200_547_329, -10_200_547_328_108), // upstream: TestNegativeValueRoundsAwayFromZero
        ("9.5000000001Gi", 10_200_547_329, 10_200_547_328_108), // upstream: TestNegativeValueRoundsAwayFromZero
        ("1Mi", 1_048_576, 1_048_576_000),                      // upstream: TestQuantityValueSet
        ("8Ki", 8192, 8_192_000),                               // upstream: TestQuantityParse
        ("1E", 1_000_000_000_000_000_000, i64::MAX), // upstream: TestParseQuantity "1E" (milli saturates)
        ("-1E", -1_000_000_000_000_000_000, i64::MIN), // upstream: TestParseQuantity "-1E"
        ("9Ei", i64::MAX, i64::MAX), // upstream: TestQuantityParse (maxAllowed), milli saturates
        ("-9Ei", -i64::MAX, i64::MIN), // upstream: TestQuantityParse (negated maxAllowed)
        ("9223372036854775807", i64::MAX, i64::MAX), // upstream: TestParseQuantity min/max int64
        ("-9223372036854775808", i64::MIN, i64::MIN), // upstream: TestParseQuantity min/max int64
        ("9223372036854775808", i64::MAX, i64::MAX), // upstream: TestParseQuantity int64+1 (saturate, not wrap)
        ("10E", i64::MAX, i64::MAX), // upstream: TestParseQuantity 20 digits (saturate)
        ("1e2147483647", i64::MAX, i64::MAX), // upstream: TestInterpretExponentInt32Bounds (saturate)
        ("-1e2147483647", i64::MIN, i64::MIN), // upstream: TestInterpretExponentInt32Bounds (saturate)
        ("9223372036854775.807", 9_223_372_036_854_776, i64::MAX), // upstream: TestParseQuantity min/max int64 (milli saturates)
        ("-9223372036854775.808", -9_223_372_036_854_776, i64::MIN), // upstream: TestParseQuantity min/max int64 (milli saturates)
        ("-9223372036854775.809", -9_223_372_036_854_776, i64::MIN), // upstream: AsScaledInt64 saturates
        ("3.001n", 1, 1), // upstream: TestQuantityParse "saturate/round"
        ("999999999999999999.1", 1_000_000_000_000_000_000, i64::MAX), // upstream: TestParseQuantity
    ];

    #[test]
    fn value_and_milli_value_round_away_from_zero_and_saturate() {
        for &(input, value, milli) in VALUES {
            let got = q(input);
            assert_eq!(got.value(), value, "value() of {input:?}");
            assert_eq!(got.milli_value(), milli, "milli_value() of {input:?}");
        }
    }

    /// (quantity, canonical Display)
    fn constructed() -> Vec<(Quantity, &'static str)> {
        use Quantity as Q;
        vec![
            (Q::from_value(1, DecimalSI), "1"),     // upstream: TestNewSet
            (Q::from_value(1000, DecimalSI), "1k"), // upstream: TestNewSet
            (Q::from_value(1_234_000, DecimalSI), "1234k"), // upstream: TestNewSet
            (Q::from_value(1024, BinarySI), "1Ki"), // upstream: TestNewSet
            (Q::from_value(1_000_000, DecimalExponent), "1e6"), // upstream: TestNewSet
            (Q::from_value(1024 * 1024, BinarySI), "1Mi"), // upstream: TestNewSet
            (Q::from_milli(1, DecimalSI), "1m"),    // upstream: TestMilliNewSet
            (Q::from_milli(1000, DecimalSI), "1"),  // upstream: TestMilliNewSet
            (Q::from_milli(1_234_000, DecimalSI), "1234"), // upstream: TestMilliNewSet
            (Q::from_milli(1024, BinarySI), "1024m"), // upstream: TestMilliNewSet (format changes)
            (Q::from_milli(1_000_000, DecimalExponent), "1e3"), // upstream: TestMilliNewSet
            (Q::from_milli(1024 * 1024, BinarySI), "1048576m"), // upstream: TestMilliNewSet
            (Q::from_value(1 << 30, BinarySI), "1Gi"), // upstream: TestQuantityString
            (Q::from_value(300 << 20, BinarySI), "300Mi"), // upstream: TestQuantityString
            (Q::from_value(6 * 1024, BinarySI), "6Ki"), // upstream: TestQuantityString
            (Q::from_value(1001 << 30, BinarySI), "1001Gi"), // upstream: TestQuantityString
            (Q::from_value(1 << 40, BinarySI), "1Ti"), // upstream: TestQuantityString
            (Q::from_value(5, BinarySI), "5"),      // upstream: TestQuantityString
            (Q::from_milli(500, BinarySI), "500m"), // upstream: TestQuantityString
            (Q::from_value(1_000_000_000, DecimalSI), "1G"), // upstream: TestQuantityString
            (Q::from_milli(80, DecimalSI), "80m"),  // upstream: TestQuantityString
            (Q::from_milli(1080, DecimalSI), "1080m"), // upstream: TestQuantityString
            (Q::from_value(300_000_000, DecimalSI), "300M"), // upstream: TestQuantityString
            (Q::from_milli(1_234_567, BinarySI), "1234567m"), // upstream: TestQuantityString
            (Q::from_value(3000, DecimalSI), "3k"), // upstream: TestQuantityString
            (Q::from_value(1025, BinarySI), "1025"), // upstream: TestQuantityString
            (Q::from_value(0, DecimalSI), "0"),     // upstream: TestQuantityString
            (Q::from_value(0, BinarySI), "0"),      // upstream: TestQuantityString
            (Q::from_value(0, DecimalExponent), "0"), // upstream: TestQuantityString
            (Q::from_milli(80, DecimalExponent), "80e-3"), // upstream: TestQuantityString
            (Q::from_value(300_000_000, DecimalExponent), "300e6"), // upstream: TestQuantityString
            (Q::from_value(3000, DecimalExponent), "3e3"), // upstream: TestQuantityString
            (Q::from_value(2000, BinarySI), "2000"), // upstream: TestBinarySIZeroExponentString
            (Q::from_value(-2000, BinarySI), "-2000"), // upstream: TestBinarySIZeroExponentString
            (Q::from_value(-(1 << 30), BinarySI), "-1Gi"), // upstream: TestQuantityString (negated)
            (Q::from_milli(-9010, DecimalSI), "-9010m"), // upstream: TestQuantityNeg
            (Q::from_value(i64::MIN, BinarySI), "-8Ei"), // upstream: TestZeroSubMostNegativeInheritsFormat
            (Q::from_value(i64::MAX, BinarySI), "9223372036854775807"), // upstream: TestQuantityParse (maxAllowed)
            (Q::from_milli(i64::MIN, DecimalSI), "-9223372036854775808m"), // upstream: TestNegAndSubAtMostNegative
            (Q::from_milli(2_048_000, BinarySI), "2Ki"), // upstream: TestQuantityString (BinarySI integral)
            (Q::from_milli(2_048_500, BinarySI), "2048500m"), // upstream: CanonicalizeBytes (inexact -> DecimalSI)
            (Q::from_milli(-1, BinarySI), "-1m"), // upstream: CanonicalizeBytes (|v| < 1024 -> DecimalSI)
            (Q::default(), "0"),                  // upstream: TestUninitializedNoCrash
        ]
    }

    #[test]
    fn constructors_render_canonically() {
        for (quantity, expected) in constructed() {
            assert_eq!(quantity.to_string(), expected, "{quantity:?}");
            // upstream: TestNewSet / TestMilliNewSet round trip through parse.
            if quantity.value() != i64::MIN {
                let back = q(expected);
                assert_eq!(back, quantity, "{expected:?}");
                assert_eq!(back.milli_value(), quantity.milli_value(), "{expected:?}");
            }
        }
        assert_eq!(format!("[{:>6}]", q("1.5")), "[ 1500m]");
    }

    #[test]
    fn from_constructors_keep_format_and_value() {
        // upstream: TestNewSet, TestMilliNewSet, TestNewScaledSet
        let cpu = Quantity::from_milli(3500, DecimalSI);
        assert_eq!(
            (cpu.milli_value(), cpu.value(), cpu.format()),
            (3500, 4, DecimalSI)
        );
        let mem = Quantity::from_value(12 << 30, BinarySI);
        assert_eq!((mem.value(), mem.format()), (12 << 30, BinarySI));
        assert!(Quantity::from_milli(0, BinarySI).is_zero());
        assert!(!Quantity::from_milli(1, DecimalSI).is_zero());
        assert!(q("0Ki").is_zero() && q("-0.000").is_zero());
    }

    #[test]
    fn helpers() {
        // upstream: TestMilliNewSet (DecimalSI milli values)
        assert_eq!(format_milli_cpu(3500), "3500m");
        assert_eq!(format_milli_cpu(8000), "8");
        assert_eq!(format_milli_cpu(0), "0");
        assert_eq!(format_milli_cpu(100), "100m");
        assert_eq!(format_milli_cpu(-250), "-250m");
        assert_eq!(format_milli_cpu(1_000_000), "1k");
        // upstream: TestQuantityString / TestBinarySIZeroExponentString (BinarySI)
        assert_eq!(format_bytes(12 << 30), "12Gi");
        assert_eq!(format_bytes(1536 << 20), "1536Mi");
        assert_eq!(format_bytes(1500), "1500");
        assert_eq!(format_bytes(1_000_000), "1000000");
        assert_eq!(format_bytes(1000), "1k"); // |v| < 1024 renders as DecimalSI upstream
        assert_eq!(format_bytes(512), "512");
        assert_eq!(format_bytes(0), "0");
        assert_eq!(format_bytes(1024), "1Ki");
        // counts stay plain integers
        assert_eq!(format_count(110), "110");
        assert_eq!(format_count(1000), "1000");
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(-5), "-5");
    }

    /// (x, y, x.cmp(y))
    const ORDER: &[(&str, &str, Ordering)] = &[
        ("0", "0", Ordering::Equal),            // upstream: TestQuantityCmp
        ("100m", "50m", Ordering::Greater),     // upstream: TestQuantityCmp
        ("50m", "100m", Ordering::Less),        // upstream: TestQuantityCmp
        ("10000T", "100Gi", Ordering::Greater), // upstream: TestQuantityCmp
        ("9.01", "9010m", Ordering::Equal),     // upstream: TestQuantityCmpInt64AndDec
        ("0.9", "9.01", Ordering::Less),        // upstream: TestQuantityCmpInt64AndDec
        ("800m", "1", Ordering::Less),          // upstream: TestQuantityCmpInt64AndDec
        ("800m", "790m", Ordering::Greater),    // upstream: TestQuantityCmpInt64AndDec
        ("9223372036854775807", "0.1", Ordering::Greater), // upstream: TestQuantityCmpInt64AndDec
        ("-9223372036854775808", "0", Ordering::Less), // upstream: TestQuantityCmpInt64AndDec
        ("-9.223372036854775808", "-1", Ordering::Less), // upstream: TestQuantityCmpInt64AndDec
        ("-0.9223372036854775808", "-1", Ordering::Greater), // upstream: TestQuantityCmpInt64AndDec
        ("10.00000000000000001", "10", Ordering::Greater), // upstream: TestQuantityCmpInt64AndDec
        ("-10", "-10.000000000", Ordering::Equal), // upstream: TestQuantityCmpInt64AndDec
        ("1Ki", "1024", Ordering::Equal),       // upstream: TestAdd (Cmp ignores Format)
        ("1e2147483647", "9Ei", Ordering::Greater), // upstream: TestInterpretExponentInt32Bounds + cmpDec (no overflow)
        ("-1e2147483647", "-1n", Ordering::Less), // upstream: TestInterpretExponentInt32Bounds (negated)
        ("1n", "0", Ordering::Greater), // upstream: TestQuantityParse (1n is the smallest non-zero)
    ];

    #[test]
    fn ordering_and_equality() {
        for &(x, y, expected) in ORDER {
            let (a, b) = (q(x), q(y));
            assert_eq!(a.cmp(&b), expected, "{x} vs {y}");
            assert_eq!(b.cmp(&a), expected.reverse(), "{y} vs {x}");
            assert_eq!(a == b, expected == Ordering::Equal, "{x} == {y}");
        }
    }

    proptest! {
        #[test]
        fn milli_round_trip(m in any::<i64>(), f in prop_oneof![Just(DecimalSI), Just(BinarySI), Just(DecimalExponent)]) {
            let original = Quantity::from_milli(m, f);
            let text = original.to_string();
            let parsed = Quantity::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.milli_value(), m, "{}", text);
            prop_assert_eq!(parsed, original);
        }

        #[test]
        fn value_round_trip(v in (i64::MIN + 1)..=i64::MAX, f in prop_oneof![Just(DecimalSI), Just(BinarySI), Just(DecimalExponent)]) {
            // i64::MIN in BinarySI renders as "-8Ei", which upstream's parser caps
            // to -(2^63 - 1); every other value round-trips exactly.
            let text = Quantity::from_value(v, f).to_string();
            let parsed = Quantity::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.value(), v, "{}", text);
            let milli = v.checked_mul(1000).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN });
            prop_assert_eq!(parsed.milli_value(), milli, "{}", text);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Quantity::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_quantity_like_input(
            s in "[+-]?[0-9]{0,45}(\\.[0-9]{0,45})?([numkKMGTPE]i?|[eE][+-]?[0-9]{0,21})?"
        ) {
            if let Ok(parsed) = Quantity::parse(&s) {
                // The canonical form is a fixed point and keeps the value.
                let text = parsed.to_string();
                let again = Quantity::parse(&text).map_err(|e| TestCaseError::fail(format!("{s:?} -> {text:?}: {e}")))?;
                prop_assert_eq!(again, parsed, "{:?} -> {:?}", s, text);
                prop_assert_eq!(again.to_string(), text);
                let _ = (parsed.value(), parsed.milli_value());
            }
        }

        #[test]
        fn decimal_fractions_are_exact(negative in any::<bool>(), whole in 0i64..1_000_000_000_000, frac in 0i64..1000) {
            let sign = if negative { "-" } else { "" };
            let parsed = Quantity::parse(&format!("{sign}{whole}.{frac:03}"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let magnitude = whole * 1000 + frac;
            prop_assert_eq!(parsed.milli_value(), if negative { -magnitude } else { magnitude });
        }

        #[test]
        fn ordering_matches_milli(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Quantity::from_milli(a, DecimalSI), Quantity::from_milli(b, BinarySI));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }
    }
}
