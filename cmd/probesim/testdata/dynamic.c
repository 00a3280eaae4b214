/* dynamic: the smallest program; the tests link it dynamically (no -static)
 * to check that probesim refuses dynamically linked programs. */
int main(void)
{
	return 0;
}
