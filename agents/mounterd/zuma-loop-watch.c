/* SPDX-License-Identifier: GPL-2.0-only */
/* Closes of loop device nodes, for deferred detaches (zuma-loop-watch.h). */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-loop-watch.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "zuma-error.h"

struct ZumaLoopWatch {
        int fd;
        guint source;
        GHashTable *by_node; /* devnode -> watch descriptor */
        GHashTable *by_wd;   /* watch descriptor -> devnode (owned by by_node) */
        ZumaLoopLeavingFn fn;
        gpointer user_data;
};

gboolean zuma_loop_is_leaving(const char *devnode)
{
        g_autofree char *base = g_path_get_basename(devnode);
        g_autofree char *path = g_strdup_printf("/sys/class/block/%s/loop/autoclear", base);
        g_autofree char *text = NULL;

        if (!g_str_has_prefix(base, "loop") || !g_file_get_contents(path, &text, NULL, NULL))
                return FALSE;
        return text[0] == '1';
}

static gboolean on_events(gint fd, GIOCondition condition, gpointer user_data)
{
        ZumaLoopWatch *self = user_data;
        char buffer[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        g_autoptr(GHashTable) leaving = g_hash_table_new(g_str_hash, g_str_equal);
        ssize_t n;

        while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
                for (char *p = buffer; p < buffer + n;) {
                        const struct inotify_event *event = (const struct inotify_event *)p;
                        const char *devnode =
                                g_hash_table_lookup(self->by_wd, GINT_TO_POINTER(event->wd));

                        if (devnode && zuma_loop_is_leaving(devnode))
                                g_hash_table_add(leaving, (gpointer)devnode);
                        p += sizeof(*event) + event->len;
                }
        }
        if (n < 0 && errno != EAGAIN)
                g_warning("reading closes of loop devices: %s", g_strerror(errno));
        {
                GHashTableIter iter;
                gpointer devnode;

                g_hash_table_iter_init(&iter, leaving);
                while (g_hash_table_iter_next(&iter, &devnode, NULL))
                        self->fn(devnode, self->user_data);
        }
        return G_SOURCE_CONTINUE;
}

ZumaLoopWatch *zuma_loop_watch_new(ZumaLoopLeavingFn fn, gpointer user_data, GError **error)
{
        ZumaLoopWatch *self;
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

        if (fd < 0) {
                int saved = errno;

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "cannot watch loop devices (inotify): %s", g_strerror(saved));
                return NULL;
        }
        self = g_new0(ZumaLoopWatch, 1);
        self->fd = fd;
        self->fn = fn;
        self->user_data = user_data;
        self->by_node = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->by_wd = g_hash_table_new(g_direct_hash, g_direct_equal);
        self->source = g_unix_fd_add(fd, G_IO_IN, on_events, self);
        return self;
}

void zuma_loop_watch_set(ZumaLoopWatch *self, const char *const *devnodes)
{
        g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer devnode, wd;

        for (guint i = 0; devnodes[i]; i++) {
                g_autofree char *base = g_path_get_basename(devnodes[i]);

                if (g_str_has_prefix(base, "loop"))
                        g_hash_table_add(wanted, (gpointer)devnodes[i]);
        }
        g_hash_table_iter_init(&iter, self->by_node);
        while (g_hash_table_iter_next(&iter, &devnode, &wd)) {
                if (g_hash_table_contains(wanted, devnode))
                        continue;
                inotify_rm_watch(self->fd, GPOINTER_TO_INT(wd));
                g_hash_table_remove(self->by_wd, wd);
                g_hash_table_iter_remove(&iter);
        }
        g_hash_table_iter_init(&iter, wanted);
        while (g_hash_table_iter_next(&iter, &devnode, NULL)) {
                char *owned;
                int new_wd;

                if (g_hash_table_contains(self->by_node, devnode))
                        continue;
                new_wd = inotify_add_watch(self->fd, devnode, IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
                if (new_wd < 0) {
                        g_warning("cannot watch %s for a detach: %s", (const char *)devnode,
                                  g_strerror(errno));
                        continue;
                }
                owned = g_strdup(devnode);
                g_hash_table_insert(self->by_node, owned, GINT_TO_POINTER(new_wd));
                g_hash_table_insert(self->by_wd, GINT_TO_POINTER(new_wd), owned);
        }
}

void zuma_loop_watch_free(ZumaLoopWatch *self)
{
        if (!self)
                return;
        if (self->source)
                g_source_remove(self->source);
        close(self->fd);
        g_hash_table_unref(self->by_wd);
        g_hash_table_unref(self->by_node);
        g_free(self);
}
