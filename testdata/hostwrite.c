/* hostwrite: changes everything it can in the directory named by its
 * argument (create, write, append, truncate, rename, remove, mkdir,
 * symlink, chmod), then reads it back, so that a test can check what
 * reached the host: nothing without a read-write mount. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ok(const char *what, int rc)
{
	printf("%s: %s\n", what, rc == 0 ? "ok" : "failed");
	return rc != 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || chdir(argv[1]))
		return 2;
	int bad = 0, fd;
	fd = open("new.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	bad |= ok("create", fd < 0 || write(fd, "new\n", 4) != 4);
	close(fd);
	fd = open("keep.txt", O_WRONLY | O_APPEND);
	bad |= ok("append", fd < 0 || write(fd, "more\n", 5) != 5);
	close(fd);
	bad |= ok("truncate", truncate("big.txt", 1));
	bad |= ok("rename", rename("old.txt", "renamed.txt"));
	bad |= ok("unlink", unlink("gone.txt"));
	bad |= ok("mkdir", mkdir("made", 0755));
	bad |= ok("rmdir", rmdir("emptydir"));
	bad |= ok("symlink", symlink("keep.txt", "link"));
	bad |= ok("chmod", chmod("keep.txt", 0600));
	char buf[64] = {0};
	fd = open("keep.txt", O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	printf("keep.txt now: %s", buf);
	return bad;
}
