/* qemu-img style messages on stderr (see report.h). */
#include "report.h"

#include <stdio.h>

/* stderr is unbuffered: the line goes out before anything that follows,
 * as qemu-img's does. */
__attribute__((format(printf, 2, 0)))
static void report_line(const char *kind, const char *fmt, va_list ap)
{
	fputs(REPORT_PROGNAME ": ", stderr);
	fputs(kind, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void report_verror(const char *fmt, va_list ap)
{
	report_line("", fmt, ap);
}

void report_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}

void report_vwarning(const char *fmt, va_list ap)
{
	report_line("warning: ", fmt, ap);
}

void report_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_vwarning(fmt, ap);
	va_end(ap);
}

void report_try_help(void)
{
	fputs("Try '" REPORT_PROGNAME " --help' for more information\n", stderr);
}
