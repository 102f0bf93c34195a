/* Bounded line reading and escaping for messages (include/geotap/textline.h). */
#include "geotap/textline.h"

long gt_text_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) {
            funlockfile(f);
            buf[n] = 0;
            return -2;   /* stop here: /dev/zero must not be read for ever */
        }
        buf[n++] = (char)c;
    }
    funlockfile(f);
    buf[n] = 0;
    if (c == EOF && (ferror(f) || n == 0))
        return ferror(f) ? -3 : -1;
    return (long)n;
}

void gt_text_escape(const char *s, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!outlen)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int plain = c >= 0x20 && c < 0x7f && c != '\\';
        size_t need = plain ? 1 : c == '\\' ? 2 : 4;
        if (o + need + 4 > outlen) {   /* room for "..." and the NUL */
            if (o + 4 <= outlen) {
                out[o++] = '.'; out[o++] = '.'; out[o++] = '.';
            }
            break;
        }
        if (plain) {
            out[o++] = (char)c;
        } else if (c == '\\') {
            out[o++] = '\\'; out[o++] = '\\';
        } else {
            out[o++] = '\\'; out[o++] = 'x'; out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
}
