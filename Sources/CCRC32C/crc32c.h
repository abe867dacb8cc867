#ifndef SEXTANT_CRC32C_H
#define SEXTANT_CRC32C_H

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of each record of the
// server's delta segments (docs/design.md 6). With SSE 4.2 (checked at run time) it takes the
// processor's crc32 instruction, 8 bytes at a time, on three thirds of a long buffer at once
// (the instruction's latency is three times its throughput), then joins the three; elsewhere
// it goes a bit at a time.

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static inline uint32_t sextant_crc32c_bytewise(uint32_t crc, const unsigned char *bytes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        crc ^= bytes[i];
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc;
}

// a times b modulo the polynomial, both reflected (bit 31 is x^0).
static inline uint32_t sextant_crc32c_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
        if (a & bit) product ^= b;
        b = (b >> 1) ^ (0x82F63B78u & (0u - (b & 1u)));
    }
    return product;
}

// x^(8 count) modulo the polynomial, reflected: what appending `count` zero bytes multiplies
// a CRC register by.
static inline uint32_t sextant_crc32c_zero_bytes(size_t count) {
    uint32_t result = 1u << 31, power = 1u << 23;  // x^0 and x^8
    while (count != 0) {
        if (count & 1u) result = sextant_crc32c_multiply(power, result);
        power = sextant_crc32c_multiply(power, power);
        count >>= 1;
    }
    return result;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static inline uint32_t sextant_crc32c_sse42(
    uint32_t crc, const unsigned char *bytes, size_t count) {
    if (count >= 3 * 4096) {
        // Three independent streams over equal thirds; the register after the first two is
        // carried past the bytes that follow them, as if they were zeros, and joined.
        size_t third = (count / 3) & ~(size_t)7;
        uint64_t first = crc, second = 0, last = 0;
        for (size_t at = 0; at < third; at += 8) {
            uint64_t a, b, c;
            memcpy(&a, bytes + at, 8);
            memcpy(&b, bytes + third + at, 8);
            memcpy(&c, bytes + 2 * third + at, 8);
            first = __builtin_ia32_crc32di(first, a);
            second = __builtin_ia32_crc32di(second, b);
            last = __builtin_ia32_crc32di(last, c);
        }
        uint32_t shift = sextant_crc32c_zero_bytes(third);
        crc = sextant_crc32c_multiply(shift, (uint32_t)first) ^ (uint32_t)second;
        crc = sextant_crc32c_multiply(shift, crc) ^ (uint32_t)last;
        bytes += 3 * third;
        count -= 3 * third;
    }
    uint64_t wide = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = __builtin_ia32_crc32di(wide, word);
        bytes += 8;
        count -= 8;
    }
    uint32_t narrow = (uint32_t)wide;
    while (count > 0) {
        narrow = __builtin_ia32_crc32qi(narrow, *bytes);
        bytes++;
        count--;
    }
    return narrow;
}

static inline int sextant_crc32c_has_sse42(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}
#endif

/// The CRC-32C of `count` bytes at `data`, continuing from `crc` (0 for a first block).
static inline uint32_t sextant_crc32c(uint32_t crc, const void *data, size_t count) {
    const unsigned char *bytes = (const unsigned char *)data;
    crc = ~crc;
#if defined(__x86_64__)
    if (sextant_crc32c_has_sse42()) return ~sextant_crc32c_sse42(crc, bytes, count);
#endif
    return ~sextant_crc32c_bytewise(crc, bytes, count);
}

#endif
