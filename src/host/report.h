/*
 * qemu-img's error_report()/warn_report() for cordon: one line on stderr
 * with the program name in front.  The prefix is always "cordon", whatever
 * argv[0] is, so that messages are stable for scripts and tests.
 */
#ifndef CORDON_HOST_REPORT_H
#define CORDON_HOST_REPORT_H

#include <stdarg.h>

#define REPORT_PROGNAME "cordon"

/* "cordon: <text>\n" on stderr. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_verror(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* "cordon: warning: <text>\n" on stderr. */
void report_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_vwarning(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* qemu-img's second line after an option error (error_printf, no prefix). */
void report_try_help(void);

#endif
