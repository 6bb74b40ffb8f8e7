/* The kernel's floor for one `libpod-stats stats --no-stream`: a static program that opens,
 * reads to the end and closes each file named on its command line (the files libpod-stats
 * reads for the same containers), then writes argv[1] bytes to stdout in one call. It
 * parses nothing. Built and run by benches/cli.rs (`cc -O2 -static`). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 18];

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 3;
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }
  size_t out = strtoul(argv[1], NULL, 10);
  if (out > sizeof buf) out = sizeof buf;
  memset(buf, ' ', out);
  return write(1, buf, out) == (ssize_t)out ? 0 : 1;
}
