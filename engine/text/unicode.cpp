// Unicode classes and normalisation for the tokenizer, on ICU's C API (libicu-dev).
#include "text/unicode.hpp"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <fmt/format.h>
#include <mpe/error.hpp>

namespace mpe::text::unicode {

std::u32string decode(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    int len = 0;
    char32_t c = 0;
    if (b < 0x80) { c = b; len = 1; }
    else if ((b & 0xE0) == 0xC0) { c = b & 0x1F; len = 2; }
    else if ((b & 0xF0) == 0xE0) { c = b & 0x0F; len = 3; }
    else if ((b & 0xF8) == 0xF0) { c = b & 0x07; len = 4; }
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= n;
    for (int k = 1; ok && k < len; ++k) {
      if ((p[i + static_cast<std::size_t>(k)] & 0xC0) != 0x80) ok = false;
      else c = (c << 6) | (p[i + static_cast<std::size_t>(k)] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
               (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF))
      ok = false;
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(c);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append(out, c);
  return out;
}

bool is_other(char32_t c) {
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

bool is_whitespace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)) != 0; }

bool is_punctuation(char32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                       (c >= 123 && c <= 126);
  return u_ispunct(static_cast<UChar32>(c)) != 0;
}

bool is_nonspacing_mark(char32_t c) {
  return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK;
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

char32_t to_lower(char32_t c) {
  return static_cast<char32_t>(u_tolower(static_cast<UChar32>(c)));
}

std::u32string nfd(const std::u32string& s) {
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFDInstance(&err);
  if (U_FAILURE(err))
    throw Error(ErrorCode::internal, fmt::format("ICU's NFD normaliser: {}", u_errorName(err)));
  std::u16string u16;
  u16.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x10000) {
      u16.push_back(static_cast<char16_t>(c));
    } else {
      u16.push_back(static_cast<char16_t>(U16_LEAD(c)));
      u16.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  // NFD rarely grows a string more than 3-fold; a longer result is retried at its size.
  std::u16string out(u16.size() * 4 + 16, u'\0');
  auto run = [&] {
    return unorm2_normalize(norm, reinterpret_cast<const UChar*>(u16.data()),
                            static_cast<int32_t>(u16.size()), reinterpret_cast<UChar*>(out.data()),
                            static_cast<int32_t>(out.size()), &err);
  };
  int32_t len = run();
  if (err == U_BUFFER_OVERFLOW_ERROR) {  // the size it needs was returned
    err = U_ZERO_ERROR;
    out.assign(static_cast<std::size_t>(len), u'\0');
    len = run();
  }
  if (U_FAILURE(err))
    throw Error(ErrorCode::internal, fmt::format("ICU's NFD normalisation: {}", u_errorName(err)));
  std::u32string r;
  r.reserve(static_cast<std::size_t>(len));
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U16_NEXT(out.data(), i, len, c);
    r.push_back(static_cast<char32_t>(c));
  }
  return r;
}

}  // namespace mpe::text::unicode
