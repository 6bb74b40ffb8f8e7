/* The kernel's floor for one `libpod-stats stats --no-stream`: a static program that opens,
 * reads to the end and closes each file named on its command line (the files libpod-stats
 * reads for the same containers), then writes argv[1] bytes to stdout in one call. It
 * parses nothing. `@LIST` instead of the files reads their names from the file LIST, one a
 * line (thousands of containers pass the kernel's limit on arguments); reading the list
 * costs about 1 % of the floor at 1000 containers. Built and run by benches/cli.rs and
 * benches/cli_many.rs (`cc -O2 -static`). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 18];

static int read_one(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 3;
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (argc == 3 && argv[2][0] == '@') {
    int fd = open(argv[2] + 1, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 4;
    off_t len = lseek(fd, 0, SEEK_END);
    char *list = malloc((size_t)len + 1);
    if (list == NULL || pread(fd, list, (size_t)len, 0) != len) return 4;
    close(fd);
    list[len] = '\0';
    for (char *line = list; *line;) {
      char *end = strchr(line, '\n');
      if (end) *end = '\0';
      if (*line && read_one(line)) return 3;
      if (!end) break;
      line = end + 1;
    }
  } else {
    for (int i = 2; i < argc; i++) {
      if (read_one(argv[i])) return 3;
    }
  }
  size_t out = strtoul(argv[1], NULL, 10);
  if (out > sizeof buf) out = sizeof buf;
  memset(buf, ' ', out);
  return write(1, buf, out) == (ssize_t)out ? 0 : 1;
}
