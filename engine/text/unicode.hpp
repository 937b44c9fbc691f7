#pragma once
// The few Unicode facts BERT's tokenizer needs (character classes, NFD, lower case), from ICU.
#include <string>

namespace mpe::text::unicode {

// Code points of UTF-8 text; an invalid byte sequence becomes U+FFFD.
std::u32string decode(const std::string& utf8);
// Appends code point c as UTF-8.
void append(std::string& out, char32_t c);
// UTF-8 of a code point sequence.
std::string encode(const std::u32string& s);

// General category C* (control, format, surrogate, private use, unassigned).
bool is_other(char32_t c);
// The White_Space property.
bool is_whitespace(char32_t c);
// ASCII punctuation or general category P*.
bool is_punctuation(char32_t c);
// General category Mn (non-spacing mark).
bool is_nonspacing_mark(char32_t c);
// The CJK ideograph blocks BERT pads with spaces.
bool is_cjk(char32_t c);
// Simple lower-case mapping.
char32_t to_lower(char32_t c);
// Canonical decomposition (NFD) of s.
std::u32string nfd(const std::u32string& s);

}  // namespace mpe::text::unicode
