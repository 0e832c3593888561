#include "http_field.h"

#define X (HTTP_TEXT | HTTP_TARGET)          /* visible, not a token character */
#define T (HTTP_TEXT | HTTP_TCHAR | HTTP_TARGET)
const unsigned char http_byte_class[256] = {
	['\t'] = HTTP_TEXT, [' '] = HTTP_TEXT, ['!'] = T, ['"'] = X, ['#'] = HTTP_TEXT | HTTP_TCHAR,
	['$' ... '\''] = T, ['(' ... ')'] = X, ['*' ... '+'] = T, [','] = X, ['-' ... '.'] = T,
	['/'] = X, ['0' ... '9'] = T, [':' ... '@'] = X, ['A' ... 'Z'] = T, ['[' ... ']'] = X,
	['^' ... '`'] = T, ['a' ... 'z'] = T, ['{'] = X, ['|'] = T, ['}'] = X, ['~'] = T,
};
#undef X
#undef T
