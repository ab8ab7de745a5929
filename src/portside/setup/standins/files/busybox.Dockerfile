# busybox:1.35 stand-in, assembled by Portside from Debian 12's busybox-static (see the image labels):
# one static binary plus a symlink per applet, like `busybox --install -s /bin`.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
