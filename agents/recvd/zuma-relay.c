/* SPDX-License-Identifier: GPL-2.0-only */
#include "zuma-relay.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <gio/gunixsocketaddress.h>
#include <unistd.h>

typedef struct {
        GInputStream *from;
        GOutputStream *to;
        GSocket *shutdown_after; /* its write side, at the end of stdin */
        GError *error;
} Copy;

static gpointer copy_thread(gpointer data)
{
        Copy *copy = data;

        if (g_output_stream_splice(copy->to, copy->from, G_OUTPUT_STREAM_SPLICE_NONE, NULL,
                                   &copy->error) < 0)
                return NULL;
        if (copy->shutdown_after)
                g_socket_shutdown(copy->shutdown_after, FALSE, TRUE, NULL);
        else
                g_output_stream_flush(copy->to, NULL, NULL);
        return NULL;
}

int zuma_relay_run(const char *run_dir)
{
        g_autofree char *path = g_build_filename(run_dir, "relay.sock", NULL);
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
        g_autoptr(GSocketConnection) connection = NULL;
        g_autoptr(GInputStream) in = g_unix_input_stream_new(STDIN_FILENO, FALSE);
        g_autoptr(GOutputStream) out = g_unix_output_stream_new(STDOUT_FILENO, FALSE);
        g_autoptr(GError) error = NULL;
        Copy up = { 0 }, down = { 0 };
        GThread *thread;

        connection = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, &error);
        if (!connection) {
                g_printerr("zuma-recvd --relay: cannot reach zuma-recvd at %s: %s\n", path,
                           error->message);
                return 1;
        }
        up = (Copy){ in, g_io_stream_get_output_stream(G_IO_STREAM(connection)),
                     g_socket_connection_get_socket(connection), NULL };
        down = (Copy){ g_io_stream_get_input_stream(G_IO_STREAM(connection)), out, NULL, NULL };
        /* Stdin to the receiver on a thread; the receiver's answers to
         * stdout here.  Once the receiver has closed, the relay is done:
         * the process exits, and what stdin still has is not read. */
        thread = g_thread_new("relay-up", copy_thread, &up);
        g_thread_unref(thread);
        copy_thread(&down);
        if (down.error) {
                g_printerr("zuma-recvd --relay: %s\n", down.error->message);
                g_clear_error(&down.error);
                return 1;
        }
        return 0;
}
