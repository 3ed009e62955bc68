/* SPDX-License-Identifier: MIT */
/*
 * boards/common/syscalls.c: newlib's system calls for a board firmware.
 *
 * Firmware links with --specs=nosys.specs (libnosys: every call a stub that
 * fails) and this file, whose definitions come first: stdout and stderr go
 * to the board's console (board_putc: a UART where QEMU models one), exit
 * status goes to QEMU through semihosting, abort() ends the run with
 * 128 + SIGABRT.  Neither rdimon nor any _sbrk is needed: malloc is
 * pageheap's (port/newlib); a NEWLIB_MALLOC firmware links sbrk.c instead.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "board_internal.h"

int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int off, int whence);
int _kill(int pid, int sig);
int _getpid(void);
void _exit(int status);

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    for (int i = 0; i < len; i++)
        board_putc((unsigned char)buf[i]);
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0; /* no console input: end of file */
}

int _close(int fd)
{
    (void)fd;
    return 0;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR; /* a terminal: stdout is line buffered */
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    return 0;
}

int _getpid(void)
{
    return 1;
}

/* raise() with no handler installed ends here: abort() is SIGABRT. */
int _kill(int pid, int sig)
{
    (void)pid;
    board_puts("\nboard: signal ");
    board_put_dec((uint32_t)sig);
    board_puts(" (abort?)\n");
    board_exit(BOARD_EXIT_SIGNAL + sig);
}

/* exit() has flushed stdio and run atexit handlers. */
void _exit(int status)
{
    board_semihost_exit(status);
}

void board_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
    board_semihost_exit(status);
}
