# registry:2 stand-in, assembled by Portside from Debian 12 packages (see the image labels):
#   /bin/registry        docker-registry's Go binary (needs only libc)
#   /lib*/…              libc.so.6 and the dynamic loader, from Debian's libc6
#   /bin/sh, du, ls, …   a static busybox (busybox-static), for `docker exec` and the entrypoint
#   /etc/ssl/certs/…     Mozilla's CA bundle, from ca-certificates
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/entrypoint.sh"]
CMD ["/etc/docker/registry/config.yml"]
