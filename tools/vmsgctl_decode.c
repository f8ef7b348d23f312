/*
 * tools/vmsgctl_decode.c: `vmsgctl decode`: virtio-msg messages in, one JSON
 * object per message out. Input is hex (arguments, or stdin one message per
 * line) or a binary stream of whole messages framed by their msg_size.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vmsg_le.h"
#include "trace/vmsg_json.h"
#include "tools/vmsgctl.h"

struct decode_opts {
    struct vmsg_wire wire;
    unsigned flags;
    unsigned messages;
    unsigned malformed;
};

static void decode_usage(FILE *f)
{
    fprintf(f,
        "usage: vmsgctl decode [--binary] [--max-size N] [--strict] [HEX ...]\n"
        "\n"
        "Print each virtio-msg message (v1 layout) as one JSON object per line,\n"
        "every field named as in the spec. With HEX arguments each argument is\n"
        "one message; without, stdin is read: one hex message per line (blank\n"
        "lines and lines starting with '#' are skipped), or with --binary a\n"
        "stream of whole messages, each framed by its msg_size.\n"
        "\n"
        "  -b, --binary       read stdin as a binary message stream\n"
        "  -m, --max-size N   bus maximum message size, 44..65535 (default 264)\n"
        "  -s, --strict       reserved bits and fields that are not zero are errors\n"
        "                     (by default they are ignored, as receivers must)\n"
        "  -h, --help         this text\n"
        "\n"
        "A malformed message prints {\"error\": ..., \"reason\": ...}; the exit status\n"
        "is then 1. Exit status 2: bad usage or unreadable input.\n");
}

static void emit(struct decode_opts *o, const uint8_t *msg, size_t len)
{
    static char line[4 * VMSG_LIMIT_MAX_MSG_SIZE + 4096];
    int v = vmsg_json_render(&o->wire, o->flags, msg, len, line, sizeof(line));
    o->messages++;
    if (v < 0) {
        fprintf(stderr, "vmsgctl decode: out of memory\n");
        exit(1);
    }
    if (v != VMSG_OK)
        o->malformed++;
    puts(line);
}

/* Hex digits, whitespace allowed between bytes; -1 on anything else. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        if (!isxdigit((unsigned char)*s) || (hi < 0 && n == cap))
            return -1;
        int v = isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

static int decode_hex_line(struct decode_opts *o, const char *text, const char *where)
{
    static uint8_t msg[VMSG_LIMIT_MAX_MSG_SIZE + 1];
    long n = parse_hex(text, msg, sizeof(msg));
    if (n < 0) {
        fprintf(stderr, "vmsgctl decode: %s: not an even number of hex digits (or longer than 65535 bytes)\n",
                where);
        return 2;
    }
    emit(o, msg, (size_t)n);
    return 0;
}

static int decode_hex_stdin(struct decode_opts *o)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, stdin) >= 0) {
        char where[32];
        const char *p = line;
        lineno++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        snprintf(where, sizeof(where), "line %u", lineno);
        if (decode_hex_line(o, p, where))
            rc = 2;
    }
    free(line);
    return rc;
}

static size_t read_full(uint8_t *buf, size_t n)
{
    return fread(buf, 1, n, stdin);
}

static int decode_binary_stdin(struct decode_opts *o)
{
    static uint8_t msg[VMSG_LIMIT_MAX_MSG_SIZE];
    unsigned long offset = 0;
    for (;;) {
        size_t got = read_full(msg, VMSG_HEADER_SIZE);
        if (got == 0)
            return ferror(stdin) ? 2 : 0;
        if (got < VMSG_HEADER_SIZE) {
            fprintf(stderr, "vmsgctl decode: byte %lu: stream ends inside a header\n", offset);
            o->malformed++;
            return 0;
        }
        uint16_t size = vmsg_get_le16(msg + 6);
        if (size < VMSG_HEADER_SIZE) {
            emit(o, msg, VMSG_HEADER_SIZE);
            fprintf(stderr, "vmsgctl decode: byte %lu: msg_size %u cannot frame a message; stopping\n",
                    offset, size);
            return 0;
        }
        got = read_full(msg + VMSG_HEADER_SIZE, size - VMSG_HEADER_SIZE);
        if (got < (size_t)size - VMSG_HEADER_SIZE) {
            fprintf(stderr, "vmsgctl decode: byte %lu: stream ends inside a %u-byte message\n", offset, size);
            emit(o, msg, VMSG_HEADER_SIZE + got);
            return 0;
        }
        emit(o, msg, size);
        offset += size;
    }
}

int vmsgctl_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "binary", no_argument, NULL, 'b' },
        { "max-size", required_argument, NULL, 'm' },
        { "strict", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct decode_opts o = { .wire = { VMSG_LAYOUT_V1, VMSG_RECOMMENDED_MAX_MSG_SIZE } };
    bool binary = false;
    int c, rc;
    char *end;

    while ((c = getopt_long(argc, argv, "bm:sh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            binary = true;
            break;
        case 'm': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < VMSG_V1_MIN_MAX_MSG_SIZE || v > VMSG_LIMIT_MAX_MSG_SIZE) {
                fprintf(stderr, "vmsgctl decode: --max-size must be 44..65535, not '%s'\n", optarg);
                return 2;
            }
            o.wire.max_msg_size = (uint32_t)v;
            break;
        }
        case 's':
            o.flags |= VMSG_DECODE_STRICT;
            break;
        case 'h':
            decode_usage(stdout);
            return 0;
        default:
            decode_usage(stderr);
            return 2;
        }
    }
    if (binary && optind < argc) {
        fprintf(stderr, "vmsgctl decode: --binary reads stdin; no HEX arguments with it\n");
        return 2;
    }
    if (optind < argc) {
        rc = 0;
        for (int i = optind; i < argc; i++) {
            char where[32];
            snprintf(where, sizeof(where), "argument %d", i - optind + 1);
            if (decode_hex_line(&o, argv[i], where))
                rc = 2;
        }
    } else {
        rc = binary ? decode_binary_stdin(&o) : decode_hex_stdin(&o);
    }
    if (rc)
        return rc;
    if (o.malformed) {
        fprintf(stderr, "vmsgctl decode: %u of %u messages malformed\n", o.malformed, o.messages);
        return 1;
    }
    return 0;
}
