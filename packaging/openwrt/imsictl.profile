# Installed as /etc/profile.d/imsictl.sh by the OpenWrt .ipk: the daemon's
# socket is under /var/run there (examples/imsid-openwrt.yaml), not
# imsictl's default /run/imsid/imsid.sock.
export IMSICTL_SOCKET=/var/run/imsid/imsid.sock
