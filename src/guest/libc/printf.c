/*
 * A bounded printf for the guest: %s %c %d %i %u %x %X %p %%, the length
 * modifiers hh h l ll z j t, the flags - 0 + space #, and field width and
 * precision (digits or *).  Output past the buffer is counted, not
 * written, so the return value is the full length as C specifies; the
 * buffer is always NUL-terminated when size > 0.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t size;
	size_t len; /* bytes the full output would have */
};

struct spec {
	bool left, zero, plus, space, alt;
	int width;     /* 0 = none */
	int prec;      /* -1 = none */
	int length;    /* 'H' hh, 'h', 'l', 'L' ll/j/z/t (all 64-bit here) */
	char conv;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, char c, int n)
{
	for (; n > 0; n--)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
}

static const char *parse_flags(const char *f, struct spec *sp)
{
	for (;; f++) {
		switch (*f) {
		case '-': sp->left = true; break;
		case '0': sp->zero = true; break;
		case '+': sp->plus = true; break;
		case ' ': sp->space = true; break;
		case '#': sp->alt = true; break;
		default: return f;
		}
	}
}

static const char *parse_int(const char *f, int *v, va_list *ap)
{
	if (*f == '*') {
		*v = va_arg(*ap, int);
		return f + 1;
	}
	*v = 0;
	while (*f >= '0' && *f <= '9') {
		if (*v < INT_MAX / 10)
			*v = *v * 10 + (*f - '0');
		f++;
	}
	return f;
}

static const char *parse_length(const char *f, struct spec *sp)
{
	switch (*f) {
	case 'h':
		sp->length = f[1] == 'h' ? 'H' : 'h';
		return f + (f[1] == 'h' ? 2 : 1);
	case 'l':
		sp->length = f[1] == 'l' ? 'L' : 'l';
		return f + (f[1] == 'l' ? 2 : 1);
	case 'z': case 'j': case 't':
		sp->length = 'L';
		return f + 1;
	default:
		return f;
	}
}

/* Parses one conversion after '%'; returns the position after it. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	f = parse_flags(f, sp);
	f = parse_int(f, &sp->width, ap);
	if (sp->width < 0) { /* a negative * width means left-justify */
		sp->left = true;
		sp->width = sp->width == INT_MIN ? INT_MAX : -sp->width;
	}
	if (*f == '.') {
		f = parse_int(f + 1, &sp->prec, ap);
		if (sp->prec < 0)
			sp->prec = -1;
	}
	f = parse_length(f, sp);
	sp->conv = *f;
	return *f ? f + 1 : f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	default: return va_arg(*ap, int);
	}
}

/* Pads the already-formatted body (prefix + digits) to the field width. */
static void put_field(struct out *o, const struct spec *sp, const char *prefix,
		      const char *digits, int ndigits)
{
	int plen = (int)strlen(prefix);
	int zeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	int body = plen + zeros + ndigits;
	int pad = sp->width > body ? sp->width - body : 0;
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		put_n(o, ' ', pad);
	put_str(o, prefix, (size_t)plen);
	put_n(o, '0', zeros);
	put_str(o, digits, (size_t)ndigits);
	if (sp->left)
		put_n(o, ' ', pad);
}

static void put_number(struct out *o, const struct spec *sp, uint64_t v,
		       bool negative, unsigned base, const char *prefix)
{
	const char *xdigits = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = sizeof(tmp);
	/* C: precision 0 with value 0 prints no digits. */
	while (v || (n == (int)sizeof(tmp) && sp->prec != 0)) {
		tmp[--n] = xdigits[v % base];
		v /= base;
	}
	const char *sign = negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
	char pre[4];
	snprintf(pre, sizeof(pre), "%s%s", sign, prefix);
	put_field(o, sp, pre, tmp + n, (int)sizeof(tmp) - n);
}

static void conv_signed(struct out *o, const struct spec *sp, va_list *ap)
{
	int64_t v = arg_signed(sp, ap);
	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	put_number(o, sp, mag, v < 0, 10, "");
}

static void conv_string(struct out *o, const struct spec *sp, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);
	if (!s)
		s = "(null)";
	size_t n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;
	if (!sp->left)
		put_n(o, ' ', pad);
	put_str(o, s, n);
	if (sp->left)
		put_n(o, ' ', pad);
}

static void convert(struct out *o, const struct spec *sp, va_list *ap)
{
	uint64_t v;
	switch (sp->conv) {
	case 'd': case 'i':
		conv_signed(o, sp, ap);
		break;
	case 'u':
		put_number(o, sp, arg_unsigned(sp, ap), false, 10, "");
		break;
	case 'x': case 'X':
		v = arg_unsigned(sp, ap);
		put_number(o, sp, v, false, 16,
			   sp->alt && v ? (sp->conv == 'X' ? "0X" : "0x") : "");
		break;
	case 'p': /* as glibc, so both sandboxes print the same */
		v = (uintptr_t)va_arg(*ap, void *);
		if (v)
			put_number(o, sp, v, false, 16, "0x");
		else
			put_field(o, &(struct spec){ .width = sp->width, .left = sp->left, .prec = -1 },
				  "", "(nil)", 5);
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		struct spec one = *sp;
		one.prec = -1; /* precision means nothing for %c */
		put_field(o, &one, "", &c, 1);
		break;
	}
	case 's':
		conv_string(o, sp, ap);
		break;
	case '%':
		put(o, '%');
		break;
	default: /* unknown or truncated: print it as written */
		put(o, '%');
		if (sp->conv)
			put(o, sp->conv);
		break;
	}
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap)
{
	struct out o = { .buf = buf, .size = size };
	va_list args;
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		struct spec sp;
		fmt = parse_spec(fmt + 1, &sp, &args);
		convert(&o, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT_MAX ? -1 : (int)o.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
